# Where this distribution's systemd, udev, dbus-daemon and polkitd look for our files, asked of
# the packages that own those directories (pkg-config), never written down here: Debian 12 keeps
# units and rules in /lib, newer systems in /usr/lib. Each is a cache variable, so -DNAME=DIR
# overrides it. A directory under CMAKE_INSTALL_PREFIX is kept relative to it, so
# `cmake --install --prefix` still moves it.
function(coffer_system_dir var module pcvar suffix package)
    if(NOT ${var})
        pkg_get_variable(dir ${module} ${pcvar})
        if(NOT dir)
            message(FATAL_ERROR "pkg-config knows no ${pcvar} of ${module}: install ${package}, "
                                "or set -D${var}=DIR")
        endif()
        string(APPEND dir "${suffix}")
        cmake_path(IS_PREFIX CMAKE_INSTALL_PREFIX "${dir}" NORMALIZE under_prefix)
        if(under_prefix)
            cmake_path(RELATIVE_PATH dir BASE_DIRECTORY "${CMAKE_INSTALL_PREFIX}")
        endif()
        set(${var} "${dir}" CACHE STRING "${module}'s ${pcvar}${suffix}")
    endif()
endfunction()

coffer_system_dir(COFFER_SYSTEMD_UNITDIR systemd systemdsystemunitdir "" systemd)
coffer_system_dir(COFFER_UDEV_RULESDIR udev udevdir /rules.d udev)
coffer_system_dir(COFFER_DBUS_SYSTEM_SERVICESDIR dbus-1 system_bus_services_dir "" libdbus-1-dev)
coffer_system_dir(COFFER_DBUS_SYSTEM_POLICYDIR dbus-1 datadir /dbus-1/system.d libdbus-1-dev)
coffer_system_dir(COFFER_DBUS_INTERFACESDIR dbus-1 interfaces_dir "" libdbus-1-dev)
coffer_system_dir(COFFER_POLKIT_ACTIONSDIR polkit-gobject-1 actiondir "" libpolkit-gobject-1-dev)
