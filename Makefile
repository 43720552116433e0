# SPDX-License-Identifier: GPL-2.0
#
# make                 build physmap.ko against the running kernel (KDIR=...)
# make check           install what is missing, run every test, end with
#                      "N passed, N failed"
# make check-debug     the debug-kernel tier of "make check" alone (KASAN,
#                      lockdep, kmemleak, fault injection; the kernel is
#                      built once into ~/.cache/physmap)
# make run             boot Debian's cloud kernel in QEMU, load a real QEMU
#                      memory map and look addresses up
# make selftests       build the kselftests (standalone)
# make test-user       the tree core in userspace: unit tests, ASan+UBSan,
#                      valgrind, a bounded libFuzzer run (user/Makefile)
# make bench-user      what each seed optimization buys, natively; then
#                      lookups against QEMU 7.2's, the maple tree's, the
#                      XArray's and binary search's, natively
# make bench           boot the VM, run the benchmark, write
#                      Documentation/physmap-bench.{txt,png} (log: build/bench)
# make tools           build libphysmap and physmapctl (no kernel needed)
# make modules_install install physmap.ko (only) into /lib/modules/$(KERNELRELEASE)
#                      (kbuild's: INSTALL_MOD_PATH, INSTALL_MOD_DIR apply)
# make install         modules_install, then libphysmap, physmapctl, headers
#                      and libphysmap.pc under $(DESTDIR)$(PREFIX)
#                      (PREFIX=/usr/local; INSTALL_MOD_PATH defaults to
#                      $(DESTDIR))
# make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
PWD := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

.PHONY: all modules clean check run selftests test-user bench-user bench \
	tools modules_install install check-debug

all: modules

modules:
	@if [ ! -d "$(KDIR)" ]; then \
		echo "physmap: no kernel build tree at $(KDIR)." >&2; \
		echo "  Install the headers of the running kernel (Debian:" >&2; \
		echo "  apt-get install linux-headers-\$$(uname -r)), or point" >&2; \
		echo "  KDIR at a built kernel tree: make KDIR=/path/to/tree" >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(PWD) modules

selftests:
	$(MAKE) -C selftests

tools:
	$(MAKE) -C tools

# INSTALL_MOD_PATH if given (even from the environment), else DESTDIR;
# passed on the command line only, never exported to other makes
PHYSMAP_MOD_PATH = $(or $(INSTALL_MOD_PATH),$(DESTDIR))

# physmap.ko only: kbuild installs what modules.order lists, so the module
# list is rebuilt without the benchmark module (a test, not for users) first
modules_install:
	$(MAKE) -C $(KDIR) M=$(PWD) PHYSMAP_BENCH=n modules
	$(MAKE) -C $(KDIR) M=$(PWD) PHYSMAP_BENCH=n \
		INSTALL_MOD_PATH=$(PHYSMAP_MOD_PATH) modules_install

install: modules_install
	$(MAKE) -C tools install

check:
	scripts/check.sh

test-user:
	$(MAKE) -C user test

bench-user:
	$(MAKE) -C user bench

check-debug:
	scripts/check.sh debug

run:
	scripts/run.sh

bench:
	scripts/bench.sh

clean:
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(PWD) clean; fi
	rm -f *.o *.ko *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -f bench/*.o bench/*.ko bench/*.mod bench/*.mod.c bench/.*.cmd \
		bench/modules.order
	$(MAKE) -C selftests clean
	rm -f bench/pmbench
	$(MAKE) -C tools clean
	rm -rf build
