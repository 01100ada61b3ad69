"""The servers under test: how to configure, start, find and stop each one.

Each server runs in the foreground as a child of the benchmark, in a session of its own (so its
workers can be found and stopped as one group), on 127.0.0.1 and a free port, with a config
generated in its own directory. No system config file is read and no system service is
started. Settings are the packages' defaults except where a scenario needs a feature switched
on (WebDAV itself, Depth infinity, unlimited body size) — each such line says why.
"""

import base64
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time

from davclient import Connection


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _www_data():
    """(uid, gid) of www-data when we are root and it exists, else None."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam("www-data")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return None


def _processes():
    """(pid, parent pid, session id) of every live process."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[1] is the parent's pid, fields[3] the session id (fields 4 and 6 of stat)
        out.append((int(d), int(fields[1]), int(fields[3])))
    return out


def _session_pids(sid):
    """Every live process in the session sid."""
    return [pid for pid, _, s in _processes() if s == sid]


def chown_tree(path, ids):
    uid, gid = ids
    for dirpath, dirnames, filenames in os.walk(path):
        os.lchown(dirpath, uid, gid)
        for n in filenames:
            os.lchown(os.path.join(dirpath, n), uid, gid)



def reap(server):
    """The end of a stop: processes still alive 5 s after the leader's end are killed, and the
    pid file goes. `server` has pids(), pid_dir and name (a Server or the PgCluster)."""
    deadline = time.monotonic() + 5
    while server.pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in server.pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.unlink(os.path.join(server.pid_dir, f"{server.name}.pid"))
    except FileNotFoundError:
        pass
    server.proc = None


def wait_ready(proc, label, ready, timeout, log_tail):
    """Polls ready() every 0.1 s until it is true. RuntimeError, with the end of the log, when
    `proc` exits first or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{label} exited at start (rc {proc.returncode}); "
                               f"log: {log_tail()}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{label} did not answer within {timeout:.0f} s; log: {log_tail()}")


class Server:
    """Base: subclasses say how to write the config and which command line to run."""

    name = "?"
    request_headers = {}  # sent with every request of the get and propfind_d1 scenarios
    # Programs that must exist for this server to be run.
    needs = ()
    # Whether the doc root must belong to www-data (servers that drop root privileges).
    drops_privileges = False
    rss_note = "one process"

    def __init__(self, work, root, pid_dir, state):
        self.work = work  # this instance's private dir (config, logs)
        # Databases, upload staging and temp files: on the tmpfs with the root, so that no
        # server pays for the disk (or copies a 1 GiB body across file systems) and others not.
        self.state = state
        self.root = root
        self.pid_dir = pid_dir
        self.port = None
        self.proc = None
        self.log = os.path.join(work, "server.log")
        self.tls = None  # (cert, key) PEM files: this instance serves HTTPS

    def tls_capable(self):
        """(True, "") if this server can serve HTTPS in the bench, else (False, why)."""
        return False, "no TLS configuration in the bench for this server"

    def tls_twin(self, cert, key):
        """Another instance of this server on the same root, with its own work and state dirs,
        serving HTTPS with cert and key (scenario big_file_https)."""
        twin = self._clone(self.work + "-tls", self.state + "-tls")
        twin.name = self.name + "-tls"  # its own pid file
        twin.tls = (cert, key)
        return twin

    def _clone(self, work, state):
        return type(self)(work, self.root, self.pid_dir, state)

    @classmethod
    def available(cls):
        missing = [p for p in cls.needs if not (os.path.exists(p) or shutil.which(p))]
        return (not missing), ("missing " + ", ".join(missing)) if missing else ""

    def command(self):
        raise NotImplementedError

    def prepare(self):
        """Write configs; set ownership. Called with self.port chosen."""

    def start(self, timeout=30.0):
        self.port = free_port()
        os.makedirs(self.work, exist_ok=True)
        os.makedirs(self.state, exist_ok=True)
        self.prepare()
        if self.drops_privileges and _www_data():
            chown_tree(self.root, _www_data())
            chown_tree(self.work, _www_data())
            chown_tree(self.state, _www_data())
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=logf, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     cwd=self.work, env=self.environment())
        logf.close()
        with open(os.path.join(self.pid_dir, f"{self.name}.pid"), "w") as f:
            f.write(str(self.proc.pid))
        def answers():
            self.discover_port()
            return bool(self.port) and self._answers()
        wait_ready(self.proc, self.name, answers, timeout, self.tail_log)

    def environment(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "APACHE"))}
        return env

    def discover_port(self):
        pass

    def _answers(self):
        if self.tls:
            return self._answers_tls()
        try:
            c = Connection(self.port, timeout=2.0)
            r = c.request("OPTIONS", "/")
            c.close()
            return r.status < 500
        except OSError:
            return False

    def _answers_tls(self):
        ctx = ssl.create_default_context(cafile=self.tls[0])
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2.0) as raw:
                with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(b"OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Connection: close\r\n\r\n")
                    head = s.recv(64)
            return head.startswith(b"HTTP/1.") and int(head.split()[1]) < 500
        except (OSError, ValueError, IndexError):
            return False

    def pids(self):
        """Every live process in the server's session (its workers included)."""
        if self.proc is None:
            return []
        return _session_pids(self.proc.pid)

    def db_pids(self):
        """The processes of a database server apart from the server's own (PostgreSQL's, for
        the keepdav-pg servers; they are in pids() too): their CPU per request is reported."""
        return []

    def stop(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
        # Workers that outlived the leader (apache, nginx) go with the group.
        reap(self)

    def tail_log(self, n=600):
        try:
            with open(self.log, "rb") as f:
                data = f.read()[-n:]
            return data.decode("utf-8", "replace").strip().replace("\n", " | ")
        except OSError:
            return "(no log)"


class Keepdav(Server):
    name = "keepdav"
    rss_note = "one process"

    def __init__(self, work, root, pid_dir, state, binary, extra_args=()):
        super().__init__(work, root, pid_dir, state)
        self.binary = binary
        self.needs = (binary,)
        # Options a benchmark sets on purpose (bench/long_ops.py: the 102 Processing ones).
        self.extra_args = list(extra_args)

    def _clone(self, work, state):
        return type(self)(work, self.root, self.pid_dir, state, self.binary, self.extra_args)

    def tls_capable(self):
        try:
            p = subprocess.run([self.binary, "--help"], capture_output=True, text=True,
                               timeout=10)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, f"{self.binary} --help: {e}"
        if "--tls-cert" not in p.stdout + p.stderr:
            return False, "this keepdav binary has no --tls-cert (built before HTTPS)"
        return True, ""

    def prepare(self):
        self.port_file = os.path.join(self.work, "port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)

    def db_option(self):
        return f"--db={self.state}/props.sqlite"

    def command(self):
        # Defaults for everything else (16 threads): what a user gets.
        cmd = [self.binary, f"--root={self.root}", self.db_option(),
               "--port=0", f"--port-file={self.port_file}", "--bind=127.0.0.1"]
        # keepdav refuses an option given twice; extra_args may choose the log level.
        if not any(x.startswith("--log-level=") for x in self.extra_args):
            cmd.append("--log-level=warning")
        if self.tls:
            cmd += [f"--tls-cert={self.tls[0]}", f"--tls-key={self.tls[1]}"]
        return cmd + self.extra_args

    def discover_port(self):
        try:
            with open(self.port_file) as f:
                txt = f.read().strip()
            self.port = int(txt) if txt else None
        except (OSError, ValueError):
            self.port = None


class KeepdavBaseline(Keepdav):
    """Another keepdav binary (--baseline-bin, e.g. built from an earlier commit), run as one
    more peer so that a change is compared with its base within one run."""

    name = "keepdav-base"


class Lighttpd(Server):
    name = "lighttpd"
    needs = ("lighttpd", "/usr/lib/lighttpd/mod_webdav.so")
    rss_note = "one process"

    def tls_capable(self):
        ok = os.path.exists("/usr/lib/lighttpd/mod_openssl.so")
        return ok, "" if ok else "mod_openssl not installed (Debian: lighttpd-mod-openssl)"

    def prepare(self):
        os.makedirs(f"{self.state}/upload", exist_ok=True)
        tls = (f'ssl.engine = "enable"\nssl.pemfile = "{self.tls[0]}"\n'
               f'ssl.privkey = "{self.tls[1]}"\n') if self.tls else ""
        conf = f"""
server.document-root = "{self.root}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.errorlog = "{self.work}/error.log"
server.modules = ("mod_webdav"{', "mod_openssl"' if self.tls else ""})
{tls}# Request bodies are staged here: on the tmpfs, like the root.
server.upload-dirs = ("{self.state}/upload")
# In KiB; the default (0) is unlimited already, said for the 1 GiB PUT.
server.max-request-size = 0
webdav.activate = "enable"
webdav.is-readonly = "disable"
# Dead properties and locks: the SQLite database the issue asks for.
webdav.sqlite-db-name = "{self.state}/webdav.sqlite"
# Off by default; scenario 3 needs it.
webdav.opts = ("propfind-depth-infinity" => "enable")
"""
        with open(f"{self.work}/lighttpd.conf", "w") as f:
            f.write(conf)

    def command(self):
        return ["lighttpd", "-D", "-f", f"{self.work}/lighttpd.conf"]


class Nginx(Server):
    name = "nginx"
    needs = ("nginx", "/usr/lib/nginx/modules/ngx_http_dav_ext_module.so")
    drops_privileges = True
    rss_note = "sum over master and workers"

    def tls_capable(self):
        return True, ""  # Debian's nginx is built with the SSL module

    def prepare(self):
        user = "user www-data www-data;" if _www_data() else ""
        tls = (f"ssl_certificate {self.tls[0]}; ssl_certificate_key {self.tls[1]}; "
               f"ssl_protocols TLSv1.2 TLSv1.3;") if self.tls else ""
        conf = f"""
daemon off;
master_process on;
worker_processes auto;
{user}
pid {self.work}/nginx.pid;
error_log {self.work}/error.log warn;
load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  # Same file system as the root: a PUT body is renamed into place, not copied.
  client_body_temp_path {self.state}/body;
  proxy_temp_path {self.work}/proxy;
  fastcgi_temp_path {self.work}/fastcgi;
  uwsgi_temp_path {self.work}/uwsgi;
  scgi_temp_path {self.work}/scgi;
  server {{
    listen 127.0.0.1:{self.port}{" ssl" if self.tls else ""};
    {tls}
    root {self.root};
    location / {{
      dav_methods PUT DELETE MKCOL COPY MOVE;
      dav_ext_methods PROPFIND OPTIONS;
      create_full_put_path on;
      client_max_body_size 0;
    }}
  }}
}}
"""
        with open(f"{self.work}/nginx.conf", "w") as f:
            f.write(conf)

    def command(self):
        return ["nginx", "-p", self.work, "-e", f"{self.work}/error.log",
                "-c", f"{self.work}/nginx.conf"]


class Apache(Server):
    name = "apache"
    needs = ("apache2", "/usr/lib/apache2/modules/mod_dav_fs.so")
    drops_privileges = True
    rss_note = "sum over parent and workers"

    def tls_capable(self):
        ok = os.path.exists("/usr/lib/apache2/modules/mod_ssl.so")
        return ok, "" if ok else "no mod_ssl.so"

    def prepare(self):
        m = "/usr/lib/apache2/modules"
        user = "User www-data\nGroup www-data" if _www_data() else ""
        os.makedirs(f"{self.work}/run", exist_ok=True)
        tls = (f"LoadModule ssl_module {m}/mod_ssl.so\nSSLEngine on\n"
               f"SSLCertificateFile {self.tls[0]}\nSSLCertificateKeyFile {self.tls[1]}\n"
               f"SSLProtocol -all +TLSv1.2 +TLSv1.3\n") if self.tls else ""
        conf = f"""
ServerRoot "{self.work}"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {self.work}/run/httpd.pid
DefaultRuntimeDir {self.work}/run
Mutex file:{self.work}/run default
ErrorLog {self.work}/error.log
LogLevel warn
{user}
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule dav_module {m}/mod_dav.so
LoadModule dav_fs_module {m}/mod_dav_fs.so
{tls}# Debian's mpm_event.conf values.
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
DocumentRoot "{self.root}"
DavLockDB {self.state}/davlock
<Directory "{self.root}">
  Dav On
  # Off by default; scenario 3 needs it.
  DavDepthInfinity On
  Options None
  AllowOverride None
  Require all granted
</Directory>
LimitRequestBody 0
"""
        with open(f"{self.work}/apache2.conf", "w") as f:
            f.write(conf)

    def command(self):
        return ["apache2", "-d", self.work, "-f", f"{self.work}/apache2.conf", "-DFOREGROUND"]


class Rclone(Server):
    name = "rclone"
    needs = ("rclone",)
    rss_note = "one process"

    def tls_capable(self):
        return True, ""  # serve webdav --cert/--key

    def prepare(self):
        open(f"{self.work}/rclone.conf", "w").close()

    def environment(self):
        env = super().environment()
        env["RCLONE_CONFIG"] = f"{self.work}/rclone.conf"
        env["HOME"] = self.work  # its cache dir, not the user's
        env["XDG_CACHE_HOME"] = f"{self.work}/cache"
        return env

    def command(self):
        tls = ["--cert", self.tls[0], "--key", self.tls[1]] if self.tls else []
        return ["rclone", "serve", "webdav", self.root, "--addr", f"127.0.0.1:{self.port}",
                "--log-level", "ERROR"] + tls


PEERS = {"lighttpd": Lighttpd, "nginx": Nginx, "apache": Apache, "rclone": Rclone}
ALL = ["keepdav", "lighttpd", "nginx", "apache", "rclone"]


class KeepdavAuth(Keepdav):
    """keepdav with --users: one bcrypt-10 user (htpasswd -B -C 10), every request sent with its
    Basic credentials (request_headers), so that a run shows what authentication costs (issue
    11: at least 0.9x the same scenario without it; the credential cache is what makes that
    possible). Only the get and propfind_d1 scenarios send the header."""

    name = "keepdav-auth"
    rss_note = "one process, --users"
    user, password = "bench", "bench-Pässwort"

    def __init__(self, work, root, pid_dir, state, binary, extra_args=()):
        super().__init__(work, root, pid_dir, state, binary, extra_args)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        self.request_headers = {"Authorization": f"Basic {token}"}

    @classmethod
    def available(cls):
        if shutil.which("htpasswd") is None:
            return False, "htpasswd not installed (apache2-utils)"
        return True, ""

    def prepare(self):
        super().prepare()
        self.users_file = os.path.join(self.work, "users")
        line = subprocess.run(["htpasswd", "-nbB", "-C", "10", self.user, self.password],
                              capture_output=True, text=True, check=True, timeout=30).stdout
        with open(self.users_file, "w") as f:
            f.write(line.strip() + "\n")

    def command(self):
        return super().command() + [f"--users={self.users_file}"]


PG_BIN = os.environ.get("KEEPDAV_PG_BIN", "/usr/lib/postgresql/15/bin")
NOBODY = 65534  # Debian's nobody and nogroup


class PgCluster:
    """A throwaway PostgreSQL cluster for the keepdav-pg servers (issue 15), one per server
    instance and round, stopped with it.

    initdb runs once per benchmark run, into <run's work dir>/pg-template; every cluster is a
    copy of it (cp -a) in the server's state dir, on the tmpfs beside the document root. The
    postmaster runs in the foreground as a child in a session of its own (its pid file in
    pids/, for run.sh's trap), as nobody when the benchmark runs as root (initdb refuses root),
    listening only on a Unix socket in its own dir (listen_addresses=''). Settings are
    PostgreSQL's defaults (max_connections 100, shared_buffers 128 MB) except fsync and
    full_page_writes, off: the data is thrown away (and on the tmpfs an fsync costs next to
    nothing either way, as it does for keepdav's SQLite file there). keepdav connects as the
    superuser "keepdav" (trust authentication on the socket) to the database "postgres" and
    creates its schema itself."""

    def __init__(self, name, work, state, pid_dir):
        self.name = name  # of its pid file
        self.work = work
        self.dir = os.path.join(state, "pg")  # the socket's dir too: keep the path short
        self.data = os.path.join(self.dir, "data")
        self.pid_dir = pid_dir
        self.log = os.path.join(work, "postgres.log")
        self.proc = None
        self.as_nobody = os.geteuid() == 0

    @staticmethod
    def available():
        missing = [p for p in ("initdb", "postgres", "pg_isready")
                   if not os.access(os.path.join(PG_BIN, p), os.X_OK)]
        if missing:
            return False, (f"missing {', '.join(missing)} in {PG_BIN} (Debian postgresql-15; "
                           f"KEEPDAV_PG_BIN names another dir)")
        return True, ""

    def _user(self):
        return dict(user=NOBODY, group=NOBODY, extra_groups=[]) if self.as_nobody else {}

    def _template(self):
        """The run's initdb'd cluster, made at first use."""
        top = os.path.join(os.path.dirname(self.work), "pg-template")
        data = os.path.join(top, "data")
        if os.path.exists(os.path.join(top, "complete")):
            return data
        shutil.rmtree(top, ignore_errors=True)
        os.makedirs(top)
        if self.as_nobody:
            os.chown(top, NOBODY, NOBODY)
        p = subprocess.run([os.path.join(PG_BIN, "initdb"), "-D", data, "-A", "trust",
                            "-U", "keepdav", "-E", "UTF8", "--locale=C", "--no-sync",
                            "--no-instructions"], capture_output=True, text=True, cwd=top,
                           timeout=300, **self._user())
        if p.returncode != 0:
            raise RuntimeError(f"initdb failed (rc {p.returncode}): "
                               f"{(p.stdout + p.stderr).strip()[-400:]}")
        open(os.path.join(top, "complete"), "w").close()
        return data

    def uri(self):
        return f"postgresql:///postgres?host={self.dir}&user=keepdav"

    def start(self, timeout=60.0):
        template = self._template()
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        os.makedirs(self.work, exist_ok=True)
        if self.as_nobody:
            os.chown(self.dir, NOBODY, NOBODY)
        # cp -a keeps the owner (nobody) and the 0700 PostgreSQL insists on.
        subprocess.run(["cp", "-a", template, self.data], check=True, timeout=120)
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(PG_BIN, "postgres"), "-D", self.data, "-k", self.dir,
             "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off"],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, cwd=self.dir, **self._user())
        logf.close()
        with open(os.path.join(self.pid_dir, f"{self.name}.pid"), "w") as f:
            f.write(str(self.proc.pid))
        def ready():
            return subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", self.dir,
                                   "-U", "keepdav", "-d", "postgres"], timeout=30).returncode == 0
        wait_ready(self.proc, "postgres", ready, timeout, self.tail_log)

    def pids(self):
        """The postmaster and its children: they are not in its session (each calls setsid)."""
        if self.proc is None:
            return []
        pm = self.proc.pid
        return [pid for pid, ppid, _ in _processes() if pm in (pid, ppid)]

    def stop(self):
        """Fast shutdown (SIGINT: clients disconnected, no wait for them), then harder."""
        if self.proc is None:
            return
        for sig, wait in ((signal.SIGINT, 30), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        reap(self)
        shutil.rmtree(self.dir, ignore_errors=True)

    tail_log = Server.tail_log  # the same log-tail, of the cluster's log


class KeepdavPg(Keepdav):
    """keepdav with --db=postgresql://... (issue 15): dead properties, locks and the journal in
    a PostgreSQL cluster of its own (PgCluster), started before keepdav and stopped after it.
    Everything else as the keepdav server (defaults: 16 threads, a pool of 8 connections). Its
    RSS and CPU are keepdav's plus the PostgreSQL processes' (the database does part of the
    work SQLite does inside keepdav; PostgreSQL's shared buffers count in each of its processes'
    RSS). cluster: another instance's (a twin, or keepdav-pg2's instances), not started or
    stopped by this one and not in its pids()."""

    name = "keepdav-pg"
    rss_note = "keepdav + PostgreSQL processes"

    def __init__(self, work, root, pid_dir, state, binary, extra_args=(), cluster=None):
        super().__init__(work, root, pid_dir, state, binary, extra_args)
        self.cluster = cluster
        self.owns_cluster = cluster is None

    def _clone(self, work, state):
        return type(self)(work, self.root, self.pid_dir, state, self.binary, self.extra_args,
                          cluster=self.cluster)

    def twin(self, suffix, extra_args=()):
        """Another instance on the same root and database, with its own work and state dirs
        and pid file (scenario db_round_trips: one with --log-level=debug)."""
        t = KeepdavPg(self.work + suffix, self.root, self.pid_dir, self.state + suffix,
                      self.binary, list(self.extra_args) + list(extra_args), self.cluster)
        t.name = self.name + suffix
        return t

    @classmethod
    def available(cls):
        return PgCluster.available()

    def db_option(self):
        return f"--db={self.cluster.uri()}"

    def start(self, timeout=30.0):
        if self.owns_cluster:
            os.makedirs(self.work, exist_ok=True)
            os.makedirs(self.state, exist_ok=True)
            self.cluster = PgCluster(self.name + "-postgres", self.work, self.state,
                                     self.pid_dir)
            self.cluster.start()
        super().start(timeout)

    def pids(self):
        return super().pids() + self.db_pids()

    def db_pids(self):
        return self.cluster.pids() if self.owns_cluster and self.cluster else []

    def stop(self):
        super().stop()
        if self.owns_cluster and self.cluster is not None:
            self.cluster.stop()


class KeepdavPg2(Server):
    """Two keepdav instances on one root and one PostgreSQL cluster behind HAProxy (issue 15's
    deployment, on one machine): HAProxy round-robin on 127.0.0.1 balances each request (not
    each connection), so the requests of one keep-alive client connection alternate between
    the instances. The instances trust HAProxy's X-Forwarded-For (--trusted-proxies=127.0.0.1,
    which also lifts the per-client connection cap: every request comes from the proxy). Its
    RSS and CPU are HAProxy's, both instances' and PostgreSQL's. On 2 cores two instances
    cannot scale: the figure is what the proxy hop and the shared database cost."""

    name = "keepdav-pg2"
    rss_note = "HAProxy + 2 keepdav + PostgreSQL"
    instance_count = 2

    def __init__(self, work, root, pid_dir, state, binary, extra_args=()):
        super().__init__(work, root, pid_dir, state)
        self.binary = binary
        self.extra_args = list(extra_args)
        self.cluster = None
        self.instances = []

    @classmethod
    def available(cls):
        if shutil.which("haproxy") is None:
            return False, "haproxy not installed (Debian haproxy)"
        return PgCluster.available()

    def start(self, timeout=30.0):
        os.makedirs(self.work, exist_ok=True)
        os.makedirs(self.state, exist_ok=True)
        self.cluster = PgCluster(self.name + "-postgres", self.work, self.state, self.pid_dir)
        self.cluster.start()
        for k in range(self.instance_count):
            inst = KeepdavPg(f"{self.work}/i{k}", self.root, self.pid_dir, f"{self.state}/i{k}",
                             self.binary, self.extra_args + ["--trusted-proxies=127.0.0.1"],
                             cluster=self.cluster)
            inst.name = f"{self.name}-i{k}"
            self.instances.append(inst)
            inst.start(timeout)
        super().start(timeout)  # HAProxy, once the instances answer

    def prepare(self):
        backends = "\n".join(f"  server i{k} 127.0.0.1:{inst.port}"
                              for k, inst in enumerate(self.instances))
        conf = f"""global
  maxconn 4096
defaults
  mode http
  # X-Forwarded-For, as a deployment would send (the instances trust 127.0.0.1).
  option forwardfor
  timeout connect 5s
  # The longest scenario requests (1 GiB bodies, a deep COPY) and keepdav's keep-alive.
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 15s
  maxconn 4096
frontend dav
  bind 127.0.0.1:{self.port}
  default_backend keepdav
backend keepdav
  balance roundrobin
{backends}
"""
        with open(f"{self.work}/haproxy.cfg", "w") as f:
            f.write(conf)

    def command(self):
        # -db: foreground, no daemon.
        return ["haproxy", "-db", "-f", f"{self.work}/haproxy.cfg"]

    def pids(self):
        out = super().pids()
        for inst in self.instances:
            out += inst.pids()
        return out + self.db_pids()

    def db_pids(self):
        return self.cluster.pids() if self.cluster else []

    def stop(self):
        super().stop()
        for inst in self.instances:
            inst.stop()
        self.instances = []
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None

    def tail_log(self, n=600):
        logs = [super().tail_log(n)] + [f"{i.name}: {i.tail_log(n)}" for i in self.instances]
        return " || ".join(logs)


# Not in ALL: only run when a baseline binary is given.
BASELINE = "keepdav-base"
# Not in ALL either: --servers=keepdav,keepdav-auth --scenarios=get,propfind_d1.
AUTH = "keepdav-auth"
# Not in ALL (they need PostgreSQL, and HAProxy): issue 15's run, see bench/run.sh --help.
PG = "keepdav-pg"
PG2 = "keepdav-pg2"
KEEPDAVS = ("keepdav", BASELINE, AUTH, PG, PG2)  # the ones running bench's keepdav binary
OPT_IN = [BASELINE, AUTH, PG, PG2]


def make(name, work, root, pid_dir, state, keepdav_bin, keepdav_args=(), baseline_bin=None):
    if name == "keepdav":
        return Keepdav(work, root, pid_dir, state, keepdav_bin, keepdav_args)
    if name == BASELINE:
        return KeepdavBaseline(work, root, pid_dir, state, baseline_bin, keepdav_args)
    if name == AUTH:
        return KeepdavAuth(work, root, pid_dir, state, keepdav_bin, keepdav_args)
    if name == PG:
        return KeepdavPg(work, root, pid_dir, state, keepdav_bin, keepdav_args)
    if name == PG2:
        return KeepdavPg2(work, root, pid_dir, state, keepdav_bin, keepdav_args)
    return PEERS[name](work, root, pid_dir, state)


def availability(name, keepdav_bin, baseline_bin=None):
    if name in KEEPDAVS:
        binary = baseline_bin if name == BASELINE else keepdav_bin
        ok = bool(binary) and os.access(binary, os.X_OK)
        if ok and name == AUTH:
            return KeepdavAuth.available()
        if ok and name == PG:
            return KeepdavPg.available()
        if ok and name == PG2:
            return KeepdavPg2.available()
        return ok, "" if ok else f"no binary at {binary}"
    return PEERS[name].available()
