# SPDX-License-Identifier: Apache-2.0
"""JupyterHub + KubeSpawner as sessionbench's baseline (bench/kubespawner/hub.ts starts it).

Every value comes from the JSON file named by PANALYSIS_HUB_SETTINGS (bench/kubespawner/settings.ts);
JupyterHub's and KubeSpawner's own defaults are kept for everything not set here, in particular the
spawn concurrency (concurrent_spawn_limit, 100) unless the settings name one.
"""
import json
import os

s = json.load(open(os.environ["PANALYSIS_HUB_SETTINGS"]))
c = get_config()  # noqa: F821 (provided by JupyterHub)

c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = s["publicPort"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hubPort"]
c.JupyterHub.db_url = "sqlite:///" + os.path.join(s["dir"], "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(s["dir"], "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % s["proxyApiPort"]
c.ConfigurableHTTPProxy.auth_token = s["proxyToken"]
c.ConfigurableHTTPProxy.command = s["proxyCommand"]
c.ConfigurableHTTPProxy.pid_file = os.path.join(s["dir"], "proxy.pid")

c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{"name": s["serviceName"], "api_token": s["apiToken"]}]
c.JupyterHub.load_roles = [
    {"name": s["serviceName"], "scopes": ["admin:users", "admin:servers"], "services": [s["serviceName"]]}
]
if s.get("concurrentSpawnLimit") is not None:
    c.JupyterHub.concurrent_spawn_limit = s["concurrentSpawnLimit"]

c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
c.KubeSpawner.namespace = s["namespace"]
c.KubeSpawner.image = s["image"]
c.KubeSpawner.cpu_guarantee = s["cpuGuarantee"]
c.KubeSpawner.mem_guarantee = s["memGuarantee"]
c.KubeSpawner.start_timeout = s["startTimeoutSeconds"]
c.KubeSpawner.http_timeout = s["httpTimeoutSeconds"]
# kwok gives pods IPs that nothing routes. KubeSpawner still waits until the pod is Running with an
# IP and ready containers (is_pod_running); the hub's HTTP check then goes to pod_connect_ip:port,
# a local server that answers 200, instead of the pod IP.
c.KubeSpawner.pod_connect_ip = "127.0.0.1"
c.KubeSpawner.port = s["readinessPort"]

if s["withStorage"]:
    c.KubeSpawner.storage_pvc_ensure = True
    c.KubeSpawner.storage_capacity = s["storageCapacity"]
    c.KubeSpawner.volumes = [{"name": "home", "persistentVolumeClaim": {"claimName": "{pvc_name}"}}]
    c.KubeSpawner.volume_mounts = [{"name": "home", "mountPath": "/home/jovyan"}]
