#include <openssl/evp.h>

#include <cstdio>

#include "uuid5.h"

namespace gpu_agent {
namespace {
// The agent's own namespace (a fixed random UUID): pools of different
// software never collide with ours even for equal names.
constexpr unsigned char kNamespace[16] = {0x6b, 0x1f, 0x3e, 0x52, 0x9a, 0x4d, 0x4c, 0x8e,
                                          0xb0, 0x21, 0x7e, 0x55, 0x3c, 0x90, 0x1d, 0xa7};
}  // namespace

std::string uuid5(const std::string& name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
  EVP_DigestUpdate(ctx, kNamespace, sizeof kNamespace);
  EVP_DigestUpdate(ctx, name.data(), name.size());
  EVP_DigestFinal_ex(ctx, digest, &len);
  EVP_MD_CTX_free(ctx);
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);  // version 5
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", digest[0],
                digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7], digest[8], digest[9],
                digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
  return out;
}

}  // namespace gpu_agent
