"""The Python face of pyunik: `pyunik.run([...])` and the `Unikernel` object.

    import pyunik
    status = pyunik.run(["guest_images/bin/hello-musl"])
    result = pyunik.run(["prog", "arg"], env={"K": "V"}, stdin=b"input",
                        capture_output=True)      # result.status, .stdout, .stderr

    vm = pyunik.Unikernel(["prog"], memory="512M")
    vm.on_syscall("write", lambda call: print(call.args), when="before")
    vm.run()

    pyunik.run(["prog"], deterministic=7)   # virtual clock, random seed 7 (kernel/clocks.py)
    pyunik.run(apps="/bin/a x; /bin/b &")    # several programs, one address space (OSv)

Layer: the top (cli/api). Calls: kernel/kernel.py (Kernel, Config) and
kernel/namespace.py to build the guest's files, loader/ (autoimage, image, elf) for
what to run.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Mapping, Sequence

from .errors import KernelError
from .fs.imagefs import ImageError
from .kernel import namespace
from .kernel.kernel import Config, Kernel, SyscallEvent
from .kernel.netdev import NetworkError
from .loader.elf import ExecFormatError
from .loader.autoimage import AutoImage



class ProgramError(Exception):
    """The program could not be started; .exit_status is what a shell would give."""

    def __init__(self, message: str, exit_status: int):
        super().__init__(message)
        self.exit_status = exit_status


class RunResult:
    """What run() gives back with capture_output. (A plain class: a dataclass compiles
    its methods at import, paid by every run.)"""

    def __init__(self, status: int, stdout: bytes | None, stderr: bytes | None,
                 signal: int = 0):
        self.status = status      # exit code, or 128 + signal like a shell
        self.stdout = stdout
        self.stderr = stderr
        self.signal = signal      # the signal that killed the guest, or 0

    def _key(self) -> tuple:
        return (self.status, self.stdout, self.stderr, self.signal)

    def __eq__(self, other) -> bool:
        return type(other) is RunResult and self._key() == other._key()

    def __repr__(self) -> str:
        return "RunResult(status=%r, stdout=%r, stderr=%r, signal=%r)" % self._key()


def parse_size(text: str | int) -> int:
    """'2G', '512M', '64k', '4096' -> bytes."""
    if isinstance(text, int):
        return text
    s = text.strip().upper().rstrip("B")
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    mult = 1
    if s and s[-1] in units:
        mult = units[s[-1]]
        s = s[:-1]
    try:
        value = int(float(s) * mult)
    except ValueError:
        raise ValueError("bad memory size %r" % text) from None
    if value <= 0:
        raise ValueError("bad memory size %r" % text)
    return value


def format_size(n: int) -> str:
    """The inverse of parse_size, for messages: 8388608 -> '8M'."""
    for unit, shift in (("G", 30), ("M", 20), ("k", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return "%d%s" % (n >> shift, unit)
    return "%d bytes" % n


def find_program(name: str, env_path: str | None = None) -> str:
    """The host path of the program: as given if it has a slash, else found on PATH."""
    if "/" in name:
        return name
    import shutil        # here: it imports bz2 and lzma, and most runs name a path
    found = shutil.which(name, path=env_path or os.environ.get("PATH", os.defpath))
    return found or name


def check_program(path: str) -> None:
    """execve's checks on a host program, before its image is built, for the shell's
    messages: it exists, is a regular file (a directory is ENOEXEC here, as the
    shell reports it), is executable and readable. The kernel checks again in the
    guest's namespace with the guest's credentials (kernel/exec.py)."""
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        if os.path.exists(path) and not os.access(path, os.X_OK):
            raise PermissionError(path)
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise ProgramError("pyunik: %s: no such file or directory" % path, 127) from None
    except IsADirectoryError:
        raise ProgramError("pyunik: %s: exec format error" % path, 126) from None
    except PermissionError:
        raise ProgramError("pyunik: %s: permission denied" % path, 126) from None
    except OSError as e:
        raise ProgramError("pyunik: %s: %s" % (path, e.strerror.lower()), 126) from None


def _host_fd(stream, default: int, keep: list) -> int:
    """A host fd for a stdio argument: None inherits, an int or file object is used,
    bytes become a memfd to read from, CAPTURE becomes a memfd to collect."""
    if stream is None:
        return default
    if isinstance(stream, int):
        return stream
    if isinstance(stream, (bytes, bytearray, str)):
        data = stream.encode() if isinstance(stream, str) else bytes(stream)
        fd = os.memfd_create("pyunik-stdin")
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        keep.append(fd)
        return fd
    return stream.fileno()


def _dns_entries(dns: Mapping[str, str]) -> dict[str, bytes]:
    """--dns NAME=IP entries as the DNS responder's table; ProgramError if bad."""
    out = {}
    if not dns:
        return out
    import ipaddress          # (~1.2 ms) only for runs given --dns
    for name, address in dns.items():
        try:
            out[name.lower().rstrip(".")] = ipaddress.IPv4Address(address).packed
        except ValueError:
            raise ProgramError("pyunik: --dns %s=%s: not an IPv4 address" % (name, address),
                               2) from None
    return out


class Unikernel:
    """One guest program, configured before it runs."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str] | None = None,
                 memory: str | int = "2G", quiet: bool = False, strace=None,
                 stdin=None, stdout=None, stderr=None, capture_output: bool = False,
                 crash_report: bool = True, root: str | None = None, image: str | None = None,
                 volumes: Sequence[str] = (), workdir: str = "/", observer=None,
                 deterministic: bool | int | None = None,
                 net: str | None = None, pcap=None, trace_virtio=None, trace_tcp=None,
                 dns: Mapping[str, str] | None = None, apps=None):
        self.apps = None
        if apps is not None:
            # OSv's command line (kernel/apps.py), or a list of AppCommands
            from .kernel import apps as apps_
            try:
                self.apps = apps_.parse(apps) if isinstance(apps, str) else list(apps)
            except apps_.AppsSyntaxError as e:
                raise ProgramError("pyunik: --apps: %s" % e, 2) from None
            if argv:
                raise ValueError("give argv or apps, not both")
            argv = self.apps[0].argv
        if not argv:
            raise ValueError("argv must name a program")
        self.argv = [str(a) for a in argv]
        self.env = dict(os.environ if env is None else env)
        self.root, self.image, self.workdir = root, image, workdir
        try:
            self.volumes = [v if isinstance(v, namespace.Volume) else namespace.parse_volume(v)
                            for v in volumes]
        except namespace.NamespaceError as e:
            raise ProgramError("pyunik: %s" % e, 2) from None
        self.guest_namespace = root is not None or image is not None
        self.path = self.argv[0] if self.guest_namespace else \
            find_program(self.argv[0], self.env.get("PATH"))
        self.capture_output = capture_output
        self._opened: list[int] = []
        if capture_output:
            stdout = stdout if stdout is not None else os.memfd_create("pyunik-stdout")
            stderr = stderr if stderr is not None else os.memfd_create("pyunik-stderr")
            self._captures = (stdout, stderr)
            self._opened += [stdout, stderr]
        self.config = Config(memory_limit=parse_size(memory), quiet=quiet, strace=strace,
                             stdin=_host_fd(stdin, 0, self._opened),
                             stdout=_host_fd(stdout, 1, self._opened),
                             stderr=_host_fd(stderr, 2, self._opened),
                             crash_report=crash_report, observer=observer,
                             net=net, pcap=pcap, trace_virtio=trace_virtio,
                             trace_tcp=trace_tcp,
                             dns=_dns_entries(dns or {}))
        if deterministic is not None and deterministic is not False:
            # deterministic mode (kernel/clocks.py): True, or the random seed
            self.config.deterministic = True
            self.config.random_seed = 0 if deterministic is True else int(deterministic)
        if stderr is not None or capture_output:
            # pyunik's own lines (warnings, crash reports) go where the guest's
            # stderr goes, so a caller capturing it sees them in order.
            self._warn = os.fdopen(os.dup(self.config.stderr), "w", buffering=1)
            self.config.warn = self._warn
        self.kernel = Kernel(self.config)

    def on_syscall(self, name: str, fn: Callable[[SyscallEvent], None], when: str = "before"):
        self.kernel.on_syscall(name, fn, when)

    def start(self) -> None:
        """Build the guest's namespace and load the program (errors: ProgramError
        with the shell's exit status)."""
        kernel = self.kernel
        envp = [os.fsencode("%s=%s" % kv) for kv in self.env.items()]
        argv = [os.fsencode(a) for a in self.argv]
        if self.apps is not None:
            return self._start_apps()
        try:
            if self.guest_namespace:
                kernel.boot(namespace.build(kernel, self.root, self.image, self.volumes))
                program = self._guest_program()
            else:
                check_program(self.path)
                program = os.path.abspath(self.path)
                kernel.boot(namespace.build(kernel, volumes=self.volumes,
                                            auto_image=AutoImage(program, lazy=True)))
            self._check_workdir()
            # The name execve is given: as typed when it has a slash, else what the
            # PATH search found (AT_EXECFN, and what a script's interpreter runs).
            filename = self.path if "/" in self.path else program
            kernel.spawn(os.fsencode(program), argv, envp, self.workdir,
                         filename=os.fsencode(filename))
        except (namespace.NamespaceError, ImageError, NetworkError) as e:
            raise ProgramError("pyunik: %s" % e, 2) from None
        except ExecFormatError as e:
            raise ProgramError("pyunik: %s: exec format error (%s)" % (self.argv[0], e),
                               126) from None
        except KernelError as e:
            if e.errno == errno.ENOMEM:
                raise ProgramError("pyunik: %s: cannot allocate memory: the guest memory "
                                   "limit (%s) is less than the program and its 8 MiB stack "
                                   "need" % (self.argv[0], format_size(
                                       self.config.memory_limit)), 126) from None
            raise ProgramError("pyunik: %s: %s" % (self.argv[0], os.strerror(e.errno).lower()),
                               127 if e.errno == errno.ENOENT else 126) from None

    def _start_apps(self) -> None:
        """--apps: every command's program found (one line and the shell's status for
        the first that cannot be), then the first ones started (kernel/apps.py)."""
        from .kernel import apps as apps_
        kernel = self.kernel
        try:
            auto = None
            if self.guest_namespace:
                kernel.boot(namespace.build(kernel, self.root, self.image, self.volumes))
            else:
                check_program(self.path)
                auto = AutoImage(os.path.abspath(self.path), lazy=True)
                kernel.boot(namespace.build(kernel, volumes=self.volumes, auto_image=auto))
            self._check_workdir()
            launches = []
            for command in self.apps:
                env = dict(self.env, **command.env)
                name = command.argv[0]
                if self.guest_namespace:
                    program = filename = self._guest_program(name, env)
                else:
                    path = find_program(name, env.get("PATH"))
                    check_program(path)
                    program = os.path.abspath(path)
                    filename = path if "/" in path else program
                    if auto.learn(program):      # it and its libraries, as execve learns
                        kernel.vfs.changed()
                launches.append(apps_.Launch(
                    os.fsencode(program), [os.fsencode(a) for a in command.argv],
                    [os.fsencode("%s=%s" % kv) for kv in env.items()],
                    os.fsencode(filename), command.text(), command.background))
            kernel.spawn_apps(launches, self.workdir)
        except (namespace.NamespaceError, ImageError, NetworkError) as e:
            raise ProgramError("pyunik: %s" % e, 2) from None
        except apps_.AppError as e:
            raise ProgramError(str(e), e.status) from None

    def _check_workdir(self) -> None:
        vfs = self.kernel.vfs
        try:
            where = vfs.resolve_absolute(os.fsencode(self.workdir))
        except KernelError as e:
            raise namespace.NamespaceError("-w %s: %s" % (self.workdir, os.strerror(e.errno)
                                                          .lower())) from None
        if not where.inode.is_dir:
            raise namespace.NamespaceError("-w %s: not a directory" % self.workdir)

    def _guest_program(self, name: str | None = None, env: Mapping[str, str] | None = None) -> str:
        """The program's guest path: as given with a slash, else found on the guest's
        PATH like execvp."""
        name = self.argv[0] if name is None else name
        env = self.env if env is None else env
        if "/" in name:
            return name if name.startswith("/") else os.path.join(self.workdir, name)
        for d in env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":"):
            candidate = os.path.join(d or ".", name)
            try:
                p = self.kernel.vfs.resolve_absolute(os.fsencode(candidate))
            except KernelError:
                continue
            if p.inode.is_regular:
                return candidate
        raise ProgramError("pyunik: %s: command not found" % name, 127)

    def run(self) -> int:
        try:
            if not self.kernel.processes:
                self.start()
            status = self.kernel.run()
            self.kernel.close_network()
            if self.config.observer is not None:
                self.config.observer.finish(self.kernel)
            if self.config.strace is not None:
                self.config.strace.flush()
            return status
        finally:
            sys.stdout.flush()

    def captured(self) -> tuple[bytes, bytes]:
        out = []
        for fd in self._captures:
            os.lseek(fd, 0, os.SEEK_SET)
            chunks = []
            while True:
                b = os.read(fd, 1 << 20)
                if not b:
                    break
                chunks.append(b)
            out.append(b"".join(chunks))
        return out[0], out[1]

    def close(self) -> None:
        warn = getattr(self, "_warn", None)
        if warn is not None:
            warn.close()
            self._warn = None
        for fd in self._opened:
            try:
                os.close(fd)
            except OSError:
                pass
        self._opened = []


def run(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, stdin=None,
        stdout=None, stderr=None, capture_output: bool = False, memory: str | int = "2G",
        quiet: bool = False, strace=None, deterministic: bool | int | None = None,
        apps=None):
    """Run a guest program to its end. Returns its exit status (128 + signal when
    killed), or a RunResult with the output when capture_output is true.
    deterministic=True (or a seed) runs it in deterministic mode. apps (instead of
    argv): OSv's command line, several programs in one address space
    (kernel/apps.py); the status is then 0, or the first failing app's."""
    vm = Unikernel(argv, env=env, memory=memory, quiet=quiet, strace=strace, stdin=stdin,
                   stdout=stdout, stderr=stderr, capture_output=capture_output,
                   deterministic=deterministic, apps=apps)
    try:
        status = vm.run()
        if not capture_output:
            return status
        out, err = vm.captured()
        return RunResult(status, out, err, vm.kernel.exit_signal)
    finally:
        vm.close()
