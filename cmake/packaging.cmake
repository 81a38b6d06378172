# The Debian package (cpack -G DEB, or scripts/package.sh): /usr/bin/gpu-agent,
# the sample config /usr/share/gpu-agent/gpu-agent.conf (postinst copies it to
# /etc/gpu-agent/gpu-agent.conf, root:gpu-agent 0640, when that is missing), the
# hardened systemd unit, and maintainer scripts that create the gpu-agent system
# user and /var/lib/gpu-agent. The config is not a dpkg conffile: the Ansible
# role (or the operator) owns it, so an unattended upgrade never stops at a
# conffile prompt; purge removes it.
#
# The absolute destinations below are for the package; `make install` into a
# prefix other than /usr also writes them under DESTDIR, which is what a
# staged install wants.
set(GPU_AGENT_PKG_DIR ${PROJECT_SOURCE_DIR}/packaging/debian)

install(FILES ${PROJECT_SOURCE_DIR}/etc/gpu-agent.conf
        DESTINATION share/gpu-agent
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/etc/gpu-agent.service
        DESTINATION /lib/systemd/system
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
# Prometheus alert rules (tests/prometheus: promtool test rules) and a Grafana
# dashboard, for the operator's Prometheus to load.
install(FILES ${PROJECT_SOURCE_DIR}/etc/prometheus/gpu-agent.rules.yml
              ${PROJECT_SOURCE_DIR}/etc/prometheus/gpu-agent.grafana.json
        DESTINATION share/gpu-agent/prometheus
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION share/doc/gpu-agent
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME gpu-agent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "GPU Placement Agent maintainers <gpu-agent@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "GPU Placement Agent: reports a compute node's GPU pools to OpenStack Placement")
set(CPACK_PACKAGE_DESCRIPTION
    "Inventories the node's PCI GPUs, SR-IOV VFs and vGPU types, says what to fix\nfor each GPU that cannot be given to guests (gpu-agent doctor), reports GPU\npools to the Placement API (gpu-agent run, a systemd service), and writes\nnova's [pci] configuration and the GPU flavors.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from dpkg-shlibdeps on the binary (libpci3, libssl3, libstdc++6,
# libc6 ...). libvirt (with libxml2, which libvirt0 depends on) and libsystemd
# are dlopen()ed (libvirt_check.cpp, notify.cpp: only the commands that use
# them load them), so dpkg-shlibdeps cannot see them: on a compute node libvirt
# gives the hostname nova uses and the unit is Type=notify, hence Depends.
# passwd: useradd in postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libvirt0, libxml2, libsystemd0, passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pci.ids")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${GPU_AGENT_PKG_DIR}/postinst;${GPU_AGENT_PKG_DIR}/prerm;${GPU_AGENT_PKG_DIR}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only the package's own files: the staged tree, not the whole build tree.
set(CPACK_STRIP_FILES ON)
include(CPack)
