# SPDX-License-Identifier: Apache-2.0
"""Start-up check of the JupyterLab image, run by build-images.sh in the built root as an
unknown uid: JupyterLab starts under a base URL with its token from JUPYTER_TOKEN_FILE,
answers /api/status with that token and refuses it without. Exits non-zero with one line."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

home = os.environ["HOME"]
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
token = "start-up-check"
with open(os.path.join(home, "token"), "w") as f:
    f.write(token)
env = dict(os.environ, JUPYTER_TOKEN_FILE=os.path.join(home, "token"), JUPYTER_RUNTIME_DIR="/tmp/jupyter-runtime")
lab = subprocess.Popen(
    ["jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
     "--ServerApp.base_url=/s/check/lab/", f"--ServerApp.root_dir={home}"],
    env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(home, "lab.log"), "w"))
url = f"http://127.0.0.1:{port}/s/check/lab/api/status"


def status(headers):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2).status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError):
        return None


try:
    for _ in range(240):
        if lab.poll() is not None:
            sys.exit(f"jupyter lab exited with {lab.returncode} at start: {open(os.path.join(home, 'lab.log')).read()[-400:]}")
        code = status({"Authorization": f"token {token}"})
        if code is not None:
            break
        time.sleep(0.5)
    else:
        sys.exit("jupyter lab did not listen within 120 s")
    if code != 200:
        sys.exit(f"jupyter lab answered {code} to the token of JUPYTER_TOKEN_FILE")
    if status({}) != 403:
        sys.exit("jupyter lab answered /api/status without a token")
finally:
    lab.terminate()
    lab.wait(20)
