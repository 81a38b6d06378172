// Peak RSS of one command: fork, exec, wait4; prints ru_maxrss (KiB).
// Static and tiny, so the child starts without a parent's pages counted
// (Python or a shell would add theirs). Used by scripts/bench-inventory-bundle.sh.
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
int main(int argc, char** argv) {
  pid_t p = fork();
  if (p == 0) {
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[1], argv + 1);
    _exit(127);
  }
  int st;
  struct rusage ru;
  wait4(p, &st, 0, &ru);
  printf("%ld\n", ru.ru_maxrss);
  return 0;
}
