#!/usr/bin/python3
"""Checks that deploy/ is consistent with itself and with handoffd's flags.

Parses every Kubernetes manifest, the Dockerfile, compose.yaml, the nginx
config, the systemd unit and the default env file, and asserts the fields
that decide whether a deployment works: probe ports and services, the grace
period against the drain timeout, the restricted securityContext, the HPA
target, ports and health checks matching across Docker, compose, nginx and
Kubernetes, and every HANDOFF_* variable naming a real handoffd flag.

Usage: check_manifests.py --root REPO [--handoffd PATH]
With --handoffd the flag list comes from `handoffd --helpfull`; without it,
from the ABSL_FLAG definitions in server/.
Needs python3-yaml (Debian). Exit status 0 when every check passes.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

import yaml

FAILURES = []
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        FAILURES.append(what)
    return bool(cond)


# --- helpers -----------------------------------------------------------------

_UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def absl_duration(text):
    """Seconds in an absl duration ("1m30s", "250ms", "inf"), or None."""
    text = str(text).strip()
    if text in ("inf", "+inf"):
        return float("inf")
    if text in ("0", "+0"):
        return 0.0  # Abseil's one duration without a unit
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def systemd_seconds(text):
    """Seconds in a systemd time span ("30s", "1min 30s", "90")."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    units = {"ms": 1e-3, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for n, u in re.findall(r"(\d+)\s*(ms|sec|min|s|m|h)", text):
        total += float(n) * units[u]
    return total


def cpu_cores(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


def mem_bytes(q):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", str(q))
    return int(m.group(1)) * {None: 1, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3}[m.group(2)]


def port_of(addr):
    return int(str(addr).rsplit(":", 1)[1])


def flag_of(var):
    return var[len("HANDOFF_"):].lower() if var.startswith("HANDOFF_") else None


def known_flags(root, handoffd):
    if handoffd:
        out = subprocess.run([handoffd, "--helpfull"], capture_output=True,
                             text=True, timeout=30)
        flags = set(re.findall(r"^\s+--([a-z0-9_]+)", out.stdout + out.stderr,
                               re.M))
        check("listen" in flags and "drain_timeout" in flags,
              f"{handoffd} --helpfull lists handoffd's flags")
        # A command, not a setting: handoffd reads no HANDOFF_CHECK_CONFIG.
        flags.discard("check_config")
        return flags
    return config_flags(root)


def config_flags(root):
    """The flags of handoffd's configuration (server/config.cc), without
    Abseil's own (--flagfile, --help...) that --helpfull lists too."""
    text = open(os.path.join(root, "server", "config.cc")).read()
    flags = set(re.findall(r"ABSL_FLAG\([^,]+,\s*(\w+)", text))
    check(flags, "server/config.cc defines handoffd's flags (ABSL_FLAG)")
    return flags


HANDOFFD = None  # the built handoffd, with --handoffd


def check_starts(where, env):
    """With the built handoffd: `handoffd --check_config` accepts the
    HANDOFF_* values `env` (and nothing else from this environment): their
    types and ranges, and how they go together, as handoffd checks them,
    not only their names. A ConfigMap's HANDOFF_STOP_GRACE: "1" passed the
    name check and crash-looped the pod."""
    if not HANDOFFD:
        return
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    try:
        out = subprocess.run([HANDOFFD, "--check_config"], env={**clean, **env},
                             capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        check(False, f"{where}: handoffd --check_config answers within 30 s")
        return
    check(out.returncode == 0,
          f"{where}: handoffd --check_config accepts its values "
          f"({out.stderr.strip() or out.returncode})")


def check_env(where, env, flags):
    for var, value in env.items():
        f = flag_of(var)
        if not check(f in flags, f"{where}: {var} names a handoffd flag "
                     f"(--{f} is not one)"):
            continue
        if f in ("default_deadline", "max_deadline", "drain_timeout",
                 "max_connection_age", "max_connection_age_grace",
                 "keepalive_min_time"):
            check(absl_duration(value) is not None,
                  f"{where}: {var}={value!r} is an absl duration")
        elif f in ("workers", "queue_depth", "max_message_bytes",
                   "stream_window", "max_batch_items"):
            check(re.fullmatch(r"\d+", str(value)),
                  f"{where}: {var}={value!r} is an integer")
        elif f == "queue_policy":
            check(value in ("reject", "wait"), f"{where}: {var} is reject|wait")
        elif f in ("listen", "admin_listen"):
            check(re.fullmatch(r".+:\d+", str(value)),
                  f"{where}: {var}={value!r} is host:port")


# --- the default env file and the systemd unit -------------------------------

def env_file(path):
    """HANDOFF_* assignments, and those commented out (#HANDOFF_X=...)."""
    active, commented = {}, {}
    for line in open(path):
        m = re.match(r"^(#?)(HANDOFF_[A-Z0-9_]+)=(.*)$", line.strip())
        if m:
            (commented if m.group(1) else active)[m.group(2)] = m.group(3)
    return active, commented


def stop_budget(env, server_defaults):
    """Seconds handoffd may take to exit on SIGTERM with the HANDOFF_*
    variables `env`: the drain, then a second for the cancelled calls to
    answer (server.cc, Shutdown), then --stop_grace for a job that ignores
    its Context."""
    parts = [absl_duration(env.get("HANDOFF_DRAIN_TIMEOUT", server_defaults["drain_timeout"])),
             1,
             absl_duration(env.get("HANDOFF_STOP_GRACE", server_defaults["stop_grace"]))]
    # A value that is no duration (check_starts names it) fits no budget.
    return float("inf") if None in parts else sum(parts)


def check_systemd(root, flags, server_defaults):
    conf = os.path.join(root, "deploy/config/handoffd.conf")
    active, commented = env_file(conf)
    check_env("deploy/config/handoffd.conf", {**commented, **active}, flags)
    # It says it shows every default: every flag of handoffd's config has a
    # line, set or commented out.
    listed = {flag_of(var) for var in {**commented, **active}}
    for f in sorted(config_flags(root)):
        check(f in listed, f"handoffd.conf: a HANDOFF_{f.upper()} line for --{f}")
    check(port_of(active.get("HANDOFF_LISTEN", ":0")) == 50051,
          "handoffd.conf: HANDOFF_LISTEN on port 50051")
    check(active.get("HANDOFF_ADMIN_LISTEN") == "127.0.0.1:9090",
          "handoffd.conf: HANDOFF_ADMIN_LISTEN=127.0.0.1:9090 (metrics off public "
          "interfaces on a bare host)")
    drain = absl_duration(active.get("HANDOFF_DRAIN_TIMEOUT",
                                     server_defaults["drain_timeout"]))
    check_starts("deploy/config/handoffd.conf", active)

    unit = {}
    for line in open(os.path.join(root, "deploy/systemd/handoffd.service")):
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            unit.setdefault(m.group(1), []).append(m.group(2))
    one = lambda k: unit.get(k, [""])[-1]
    check(one("ExecStart").split()[0] == "/usr/bin/handoffd",
          "unit: ExecStart=/usr/bin/handoffd (the package's path)")
    check(one("EnvironmentFile").lstrip("-") == "/etc/handoff/handoffd.conf",
          "unit: EnvironmentFile=/etc/handoff/handoffd.conf")
    check(one("KillSignal") == "SIGTERM", "unit: KillSignal=SIGTERM")
    stop = systemd_seconds(one("TimeoutStopSec") or "90")
    budget = stop_budget(active, server_defaults)
    check(stop > budget, f"unit: TimeoutStopSec ({stop}s) > drain timeout + 1s + "
          f"stop grace ({budget}s)")
    check("2" in one("RestartPreventExitStatus").split(),
          "unit: RestartPreventExitStatus=2 (a bad flag value is not restarted in a loop)")
    check(one("RuntimeDirectory") == "handoff",
          "unit: RuntimeDirectory=handoff (somewhere to put a unix: socket)")
    for key, want in [("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                      ("ProtectHome", "yes"), ("PrivateTmp", "yes")]:
        check(one(key) == want, f"unit: {key}={want}")
    check(one("DynamicUser") == "yes" or one("User") not in ("", "root"),
          "unit: runs as an unprivileged user")
    check("@system-service" in " ".join(unit.get("SystemCallFilter", [])),
          "unit: SystemCallFilter=@system-service")
    check(set(one("RestrictAddressFamilies").split()) <=
          {"AF_INET", "AF_INET6", "AF_UNIX"},
          "unit: RestrictAddressFamilies limited to AF_INET/AF_INET6/AF_UNIX")
    # /metrics' process_* series need /proc/stat (the boot time), which
    # ProcSubset=pid hides: with it they were never served.
    check(one("ProcSubset") in ("", "all"),
          "unit: no ProcSubset=pid (the process_* metrics read /proc/stat)")
    pk = open(os.path.join(root, "cmake/Packaging.cmake")).read()
    check(re.search(r"HANDOFF_SYSCONFDIR\s+/etc/handoff\b", pk),
          "Packaging.cmake installs handoffd.conf to /etc/handoff")
    return drain


# --- Kubernetes --------------------------------------------------------------

def load_k8s(root):
    docs = {}
    files = sorted(glob.glob(os.path.join(root, "deploy/k8s/*.yaml")))
    check(files, "deploy/k8s has manifests")
    kustomization = None
    for path in files:
        for doc in yaml.safe_load_all(open(path)):
            if doc is None:
                continue
            name = os.path.basename(path)
            if doc.get("kind") == "Kustomization":
                kustomization = (name, doc)
                continue
            check(doc.get("apiVersion") and doc.get("kind")
                  and doc.get("metadata", {}).get("name"),
                  f"{name}: has apiVersion, kind and metadata.name")
            docs.setdefault(doc["kind"], []).append(doc)
    if check(kustomization, "deploy/k8s/kustomization.yaml exists"):
        listed = set(kustomization[1].get("resources", []))
        others = {os.path.basename(p) for p in files} - {kustomization[0]}
        check(listed == others, f"kustomization lists every manifest "
              f"(missing {others - listed}, extra {listed - others})")
    return docs


def check_kustomize(root, docs):
    """Where kubectl exists (it is not a Debian 12 package, so optional):
    `kubectl kustomize deploy/k8s` renders exactly the parsed objects."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        print("note: kubectl not found; `kubectl kustomize` not run")
        return
    out = subprocess.run([kubectl, "kustomize", os.path.join(root, "deploy/k8s")],
                         capture_output=True, text=True, timeout=60)
    if not check(out.returncode == 0, f"kubectl kustomize deploy/k8s: {out.stderr}"):
        return
    rendered = sorted((d["kind"], d["metadata"]["name"])
                      for d in yaml.safe_load_all(out.stdout) if d)
    parsed = sorted((k, d["metadata"]["name"]) for k, ds in docs.items() for d in ds)
    check(rendered == parsed, "kubectl kustomize renders every manifest")


def matches(selector, labels):
    return selector and all(labels.get(k) == v for k, v in selector.items())


def check_k8s(root, docs, flags):
    by = lambda kind: docs.get(kind, [])
    if not all([check(len(by("Deployment")) == 1, "one Deployment"),
                check(len(by("ConfigMap")) == 1, "one ConfigMap"),
                check(len(by("HorizontalPodAutoscaler")) == 1, "one HPA"),
                check(len(by("PodDisruptionBudget")) == 1, "one PodDisruptionBudget")]):
        return None
    dep, cm = by("Deployment")[0], by("ConfigMap")[0]
    hpa, pdb = by("HorizontalPodAutoscaler")[0], by("PodDisruptionBudget")[0]
    env = {k: str(v) for k, v in cm.get("data", {}).items()}
    check_env("configmap.yaml", env, flags)
    check_starts("configmap.yaml", env)

    check(dep["apiVersion"] == "apps/v1", "Deployment is apps/v1")
    spec, pod = dep["spec"], dep["spec"]["template"]["spec"]
    labels = dep["spec"]["template"]["metadata"]["labels"]
    check(matches(spec["selector"]["matchLabels"], labels),
          "Deployment selector matches its pod labels")
    check("replicas" not in spec or spec["replicas"] >= hpa["spec"]["minReplicas"],
          "Deployment leaves replicas to the HPA (or starts at its minimum)")
    containers = pod["containers"]
    check(len(containers) == 1, "one container")
    c = containers[0]
    check(c["image"].split(":")[0] == "handoff" and "/" not in c["image"],
          "container image is the locally built handoff:<version>")

    grpc_port = port_of(env.get("HANDOFF_LISTEN", ":50051"))
    admin_port = port_of(env.get("HANDOFF_ADMIN_LISTEN", ":9090"))
    check(grpc_port == 50051 and admin_port == 9090,
          "ConfigMap listens on 50051 (gRPC) and 9090 (admin)")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(ports.get("grpc") == grpc_port, "containerPort grpc = HANDOFF_LISTEN port")
    check(ports.get("admin") == admin_port,
          "containerPort admin = HANDOFF_ADMIN_LISTEN port")
    check(any(e.get("configMapRef", {}).get("name") == cm["metadata"]["name"]
              for e in c.get("envFrom", [])),
          "container loads the ConfigMap with envFrom")

    for probe in ("readinessProbe", "livenessProbe"):
        p = c.get(probe, {})
        g = p.get("grpc")
        if check(g, f"{probe} is a native gRPC probe"):
            check(g.get("port") == grpc_port,
                  f"{probe} port {g.get('port')} = gRPC port {grpc_port}")
            check(g.get("service", "") in ("", "handoff.v1.Gateway"),
                  f"{probe} asks grpc.health.v1 about '' or handoff.v1.Gateway")
    if c.get("startupProbe", {}).get("grpc"):
        check(c["startupProbe"]["grpc"].get("port") == grpc_port,
              "startupProbe on the gRPC port")

    # Termination: grace > preStop + drain.
    drain = absl_duration(env.get("HANDOFF_DRAIN_TIMEOUT", "10s"))
    pre = c.get("lifecycle", {}).get("preStop", {})
    pre_s = 0.0
    if check(pre, "container has a preStop hook"):
        if "exec" in pre:
            cmd = pre["exec"]["command"]
            check(cmd[0] in ("/bin/sleep", "sleep") and len(cmd) == 2,
                  "preStop runs sleep N (coreutils is in the bookworm-slim image)")
            pre_s = float(cmd[-1])
        elif "sleep" in pre:
            pre_s = float(pre["sleep"]["seconds"])
    grace = pod.get("terminationGracePeriodSeconds", 30)
    budget = stop_budget(env, {"drain_timeout": "10s", "stop_grace": "1s"})
    check(grace > pre_s + budget,
          f"terminationGracePeriodSeconds ({grace}) > preStop ({pre_s}s) + "
          f"drain + 1s + stop grace ({budget}s)")

    # Resources.
    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    check("cpu" in req and "memory" in req, "resource requests for cpu and memory")
    check("cpu" in lim and "memory" in lim, "resource limits for cpu and memory")
    if "cpu" in req and "cpu" in lim:
        check(cpu_cores(req["cpu"]) <= cpu_cores(lim["cpu"]), "cpu request <= limit")
        if "HANDOFF_WORKERS" in env:
            check(int(env["HANDOFF_WORKERS"]) == max(1, int(cpu_cores(lim["cpu"]))),
                  "HANDOFF_WORKERS = cores of the cpu limit")
    if "memory" in req and "memory" in lim:
        check(mem_bytes(req["memory"]) <= mem_bytes(lim["memory"]),
              "memory request <= limit")

    # Restricted securityContext (Pod Security Standards "restricted").
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    merged = {**psc, **csc}
    check(merged.get("runAsNonRoot") is True, "runAsNonRoot: true")
    check(merged.get("runAsUser", 0) != 0, "runAsUser is not root")
    check(csc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
    check(csc.get("allowPrivilegeEscalation") is False,
          "allowPrivilegeEscalation: false")
    check(csc.get("privileged", False) is False, "not privileged")
    check("ALL" in csc.get("capabilities", {}).get("drop", []),
          "capabilities drop ALL")
    check(not csc.get("capabilities", {}).get("add"), "no capabilities added")
    check(merged.get("seccompProfile", {}).get("type") == "RuntimeDefault",
          "seccompProfile RuntimeDefault")

    # Services.
    svcs = by("Service")
    headless = [s for s in svcs if s["spec"].get("clusterIP") == "None"]
    check(len(svcs) == 2 and len(headless) == 1,
          "a ClusterIP Service and a headless Service")
    for s in svcs:
        n = s["metadata"]["name"]
        check(matches(s["spec"]["selector"], labels), f"Service {n} selects the pods")
        gp = [p for p in s["spec"]["ports"] if p["name"] == "grpc"]
        if check(gp, f"Service {n} has a grpc port"):
            check(gp[0]["targetPort"] in ("grpc", grpc_port),
                  f"Service {n} grpc targets the container's gRPC port")
            check(gp[0]["port"] == grpc_port, f"Service {n} exposes {grpc_port}")

    # HPA.
    check(hpa["apiVersion"] == "autoscaling/v2", "HPA is autoscaling/v2")
    hs = hpa["spec"]
    check(hs["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                   "name": dep["metadata"]["name"]},
          "HPA targets the Deployment")
    check(2 <= hs["minReplicas"] <= hs["maxReplicas"],
          "HPA: 2 <= minReplicas <= maxReplicas")
    cpu = [m for m in hs.get("metrics", []) if m.get("type") == "Resource"
           and m["resource"]["name"] == "cpu"]
    if check(cpu, "HPA scales on cpu"):
        t = cpu[0]["resource"]["target"]
        check(t["type"] == "Utilization" and 0 < t["averageUtilization"] <= 100,
              "HPA cpu target is a utilization in (0, 100]")
        check("cpu" in req, "cpu request set (HPA utilization is relative to it)")

    # PDB.
    check(pdb["apiVersion"] == "policy/v1", "PDB is policy/v1")
    check(matches(pdb["spec"]["selector"]["matchLabels"], labels),
          "PDB selects the pods")
    if "minAvailable" in pdb["spec"]:
        check(pdb["spec"]["minAvailable"] < hs["minReplicas"],
              "PDB minAvailable < HPA minReplicas (a node drain can proceed)")
    return {"env": env, "runAsUser": merged.get("runAsUser"),
            "grpc_port": grpc_port, "admin_port": admin_port}


# --- Dockerfile, compose, nginx ----------------------------------------------

def parse_dockerfile(path):
    stages, cur = {}, None
    text = re.sub(r"\\\n", " ", open(path).read())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            cur = {"from": m.group(1), "lines": []}
            stages[m.group(2) or f"stage{len(stages)}"] = cur
        cur["lines"].append((instr, rest.strip()))
    return stages


def check_docker(root, flags, k8s, conf_drain, server_defaults):
    stages = parse_dockerfile(os.path.join(root, "deploy/Dockerfile"))
    check(stages, "deploy/Dockerfile parses")
    for name, st in stages.items():
        check(re.fullmatch(r"debian:bookworm(-slim)?", st["from"]),
              f"Dockerfile stage {name} is FROM debian:bookworm (got {st['from']})")
    names = list(stages)
    runtime = stages[names[-1]]
    check(names[-1] == "runtime", "the last (default) stage is 'runtime'")
    instr = lambda st, i: [r for k, r in st["lines"] if k == i]
    expose = {int(p.split("/")[0]) for r in instr(runtime, "EXPOSE") for p in r.split()}
    check(expose == {k8s["grpc_port"], k8s["admin_port"]},
          f"runtime EXPOSEs {k8s['grpc_port']} and {k8s['admin_port']} (got {expose})")
    user = (instr(runtime, "USER") or [""])[-1].split(":")[0]
    check(user.isdigit() and int(user) != 0, "runtime USER is a numeric non-root uid")
    check(user.isdigit() and int(user) == k8s["runAsUser"],
          "runtime USER uid = the Deployment's runAsUser")
    hc = (instr(runtime, "HEALTHCHECK") or [""])[-1]
    hc_cmd = re.search(r"CMD\s+(\[.*\])", hc)
    hc_list = yaml.safe_load(hc_cmd.group(1)) if hc_cmd else []
    check(hc_list[:2] == ["handoff", "health"],
          "HEALTHCHECK runs `handoff health`")
    addr = hc_list[hc_list.index("--addr") + 1] if "--addr" in hc_list else ""
    check(addr and port_of(addr) == k8s["grpc_port"],
          "HEALTHCHECK --addr uses the gRPC port")
    check(instr(runtime, "STOPSIGNAL") == ["SIGTERM"], "runtime STOPSIGNAL SIGTERM")
    check(instr(runtime, "ENTRYPOINT") == ['["handoffd"]'], "ENTRYPOINT handoffd")
    denv = {}
    for r in instr(runtime, "ENV"):
        denv.update(dict(re.findall(r"(\w+)=(\S+)", r)))
    check_env("Dockerfile ENV", denv, flags)
    check_starts("Dockerfile ENV", denv)
    check(port_of(denv.get("HANDOFF_LISTEN", ":0")) == k8s["grpc_port"] and
          port_of(denv.get("HANDOFF_ADMIN_LISTEN", ":0")) == k8s["admin_port"],
          "Dockerfile ENV listens on the same ports as the ConfigMap")
    check(absl_duration(denv.get("HANDOFF_DRAIN_TIMEOUT", "0s")) == conf_drain,
          "Dockerfile ENV drain timeout = deploy/config/handoffd.conf's")
    runs = " ".join(instr(runtime, "RUN"))
    check("handoff.deb" in runs and "apt-get install" in runs,
          "runtime installs the package built by cpack")
    check(any("cpack -G DEB" in r for s in stages.values() for r in instr(s, "RUN")),
          "build stage runs cpack -G DEB")

    # compose.yaml
    comp = yaml.safe_load(open(os.path.join(root, "deploy/compose.yaml")))
    svcs = comp["services"]
    replicas = sorted(n for n in svcs if n.startswith("handoffd-"))
    check(len(replicas) >= 2, "compose runs two or more handoffd replicas")
    drains = []
    for n in replicas:
        s = svcs[n]
        env = {k: str(v) for k, v in s.get("environment", {}).items()}
        check_env(f"compose {n}", env, flags)
        check_starts(f"compose {n}", env)
        # README: nginx logs no calls, the replicas do, to stderr (the root
        # is read-only).
        check(env.get("HANDOFF_ACCESS_LOG") == "-",
              f"compose {n} logs its calls to stderr (HANDOFF_ACCESS_LOG=-)")
        check(s["build"]["target"] == "runtime" and
              s["build"]["dockerfile"] == "deploy/Dockerfile",
              f"compose {n} builds deploy/Dockerfile's runtime stage")
        check(port_of(env.get("HANDOFF_LISTEN", ":0")) == k8s["grpc_port"],
              f"compose {n} listens on the gRPC port")
        drain = absl_duration(env.get("HANDOFF_DRAIN_TIMEOUT",
                                      server_defaults["drain_timeout"]))
        drains.append(drain)
        check(absl_duration(s.get("stop_grace_period", "10s")) >
              stop_budget(env, server_defaults),
              f"compose {n}: stop_grace_period > drain timeout + 1s + stop grace")
        check(s.get("stop_signal", "SIGTERM") == "SIGTERM", f"compose {n}: SIGTERM")
        check(s.get("healthcheck", {}).get("test") == ["CMD"] + hc_list,
              f"compose {n}: healthcheck = the Dockerfile's HEALTHCHECK")
        check(s.get("read_only") is True and "ALL" in s.get("cap_drop", []),
              f"compose {n}: read-only root and no capabilities")
    ng = svcs.get("nginx", {})
    ng_stage = stages.get(ng.get("build", {}).get("target"))
    if check(ng_stage, "compose nginx builds a stage of deploy/Dockerfile"):
        user = (instr(ng_stage, "USER") or [""])[-1].split(":")[0]
        check(user.isdigit() and int(user) != 0,
              "the nginx stage's USER is a numeric non-root uid")
        copies = " ".join(instr(ng_stage, "COPY"))
        check("deploy/nginx/nginx.conf.in /etc/nginx/nginx.conf" in copies and
              "deploy/nginx/handoff.conf /etc/nginx/conf.d/" in copies,
              "the nginx stage runs nginx.conf.in with handoff.conf in conf.d/, "
              "as deploy_nginx_replicas does")
        state = re.search(r"s\|@STATE_DIR@\|(\S+)\|g", " ".join(instr(ng_stage, "RUN")))
        tmpfs = ng.get("tmpfs") or []
        check(state and state.group(1) in tmpfs,
              "the nginx image's @STATE_DIR@ is a tmpfs in compose")
    check(ng.get("read_only") is True and "ALL" in ng.get("cap_drop", []),
          "compose nginx: read-only root and no capabilities")
    main_conf = re.sub(r"#[^\n]*", "",
                       open(os.path.join(root, "deploy/nginx/nginx.conf.in")).read())
    check(not re.search(r"^\s*user\s", main_conf, re.M),
          "nginx.conf.in has no `user` (nginx is started as its user)")
    for m in re.finditer(r"^\s*(pid|\w+_temp_path)\s+(\S+)\s*;", main_conf, re.M):
        check(m.group(2).startswith("@STATE_DIR@/"),
              f"nginx.conf.in: {m.group(1)} is under @STATE_DIR@")
    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        check(re.search(rf"^\s*{d}_temp_path\s", main_conf, re.M),
              f"nginx.conf.in sets {d}_temp_path (its default is under /var/lib)")
    max_deadlines = [absl_duration(svcs[n].get("environment", {}).get(
        "HANDOFF_MAX_DEADLINE", server_defaults["max_deadline"])) for n in replicas]

    # nginx/handoff.conf
    conf = open(os.path.join(root, "deploy/nginx/handoff.conf")).read()
    conf_nc = re.sub(r"#[^\n]*", "", conf)
    up = re.search(r"upstream\s+(\S+)\s*\{([^}]*)\}", conf_nc)
    if check(up, "nginx: an upstream block"):
        servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", up.group(2), re.M)
        check(sorted(h for h, _ in servers) == replicas,
              f"nginx upstream servers {servers} = compose replicas {replicas}")
        check(all(int(p) == k8s["grpc_port"] for _, p in servers),
              "nginx upstream servers use the gRPC port")
        check(re.search(r"grpc_pass\s+grpc://" + re.escape(up.group(1)) + r"\s*;",
                        conf_nc), "nginx: grpc_pass grpc://<the upstream>")
    listen = re.search(r"listen\s+(\d+)\s+http2\s*;", conf_nc)
    if check(listen, "nginx: listen <port> http2"):
        published = [p for p in ng.get("ports", [])
                     if str(p).endswith(":" + listen.group(1))]
        check(published, "compose publishes nginx's listen port")
    nu = re.search(r"grpc_next_upstream\s+([^;]+);", conf_nc)
    if check(nu, "nginx: grpc_next_upstream"):
        conds = set(nu.group(1).split())
        check({"error", "timeout", "non_idempotent"} <= conds,
              "nginx retries connection errors and timeouts, also for POST "
              "(non_idempotent)")
    # handoff.conf is also the config for nginx in front of replicas run
    # from the package or the image, at handoffd's default --max_deadline.
    longest = max(max_deadlines + [absl_duration(server_defaults["max_deadline"])])
    for directive in ("grpc_read_timeout", "grpc_send_timeout", "client_body_timeout"):
        t = re.search(directive + r"\s+(\S+)\s*;", conf_nc)
        check(t and absl_duration(t.group(1)) > longest,
              f"nginx {directive} > the longest --max_deadline ({longest}s): "
              "handoffd, not nginx, ends a call that runs out of time")
    check(re.search(r"client_max_body_size\s+0\s*;", conf_nc),
          "nginx: client_max_body_size 0 (streams are long bodies)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--handoffd")
    a = ap.parse_args()
    global HANDOFFD
    HANDOFFD = a.handoffd
    flags = known_flags(a.root, a.handoffd)
    # Server defaults that matter here, for variables a file leaves unset.
    server_defaults = {"drain_timeout": "10s", "max_deadline": "120s", "stop_grace": "1s"}
    conf_drain = check_systemd(a.root, flags, server_defaults)
    docs = load_k8s(a.root)
    check_kustomize(a.root, docs)
    k8s = check_k8s(a.root, docs, flags)
    if k8s:
        check_docker(a.root, flags, k8s, conf_drain, server_defaults)
    for f in FAILURES:
        print("FAIL:", f)
    print(f"{CHECKS - len(FAILURES)}/{CHECKS} deploy checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
