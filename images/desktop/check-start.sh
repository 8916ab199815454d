#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Start-up check of the desktop image, run by build-images.sh in the built root as an unknown
# uid: Xvnc starts with VNC authentication from a vncpasswd file written under $HOME and
# answers the RFB handshake. Prints one line and exits non-zero when it does not.
set -u
d=$((50 + $$ % 40)); port=$((5900 + d))
echo start-up-check | vncpasswd -f > "$HOME/passwd"
Xvnc ":$d" -localhost -rfbport "$port" -SecurityTypes VncAuth -PasswordFile "$HOME/passwd" \
  -geometry 800x600 -depth 24 > "$HOME/xvnc.log" 2>&1 &
xvnc=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
banner="$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && head -c 12 <&3) 2>/dev/null)"
kill "$xvnc" 2>/dev/null; wait "$xvnc" 2>/dev/null
[ "$banner" = "RFB 003.008" ] || { echo "Xvnc did not answer the RFB handshake on :$d: $(tail -2 "$HOME/xvnc.log" | tr '\n' ' ')"; exit 1; }
