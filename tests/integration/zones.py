"""Authoritative DNS for the Baseline Requirements tests: nsd on 127.0.0.1 serving zones
that ldns-signzone signs (with a trust anchor file holding their DS records), zones with a
broken signature, and unsigned zones."""
import glob
import os
import subprocess
import time

from harness import free_port, wait_port


class Zones:
    def __init__(self, base):
        self.dir = os.path.join(base, "zones")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.zones = {}   # name -> {"records": [...], "mode": "signed"|"broken"|"unsigned"}
        self.keys = {}    # name -> [key file bases]
        self.proc = None
        self.anchor = os.path.join(self.dir, "anchors.ds")
        # the parent of the test zones (CAA lookups climb up to the top-level domain)
        self.zone("test", mode="unsigned")

    def zone(self, name, mode="signed"):
        """Add a zone (mode signed, broken or unsigned); returns its record list."""
        self.zones[name] = {"records": [], "mode": mode}
        if mode != "unsigned":
            self._keygen(name)
        return self.zones[name]["records"]

    def add(self, zone, owner, rtype, value):
        """A record: owner relative to the zone ("@" for the apex) or absolute with a dot."""
        self.zones[zone]["records"].append((owner, rtype, value))

    def _keygen(self, name):
        bases = []
        for flags in (["-k"], []):
            r = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256"] + flags + [name],
                               cwd=self.dir, capture_output=True, text=True, check=True)
            bases.append(r.stdout.strip())
        self.keys[name] = bases

    def _write(self):
        anchors = []
        for name, z in self.zones.items():
            lines = [f"$ORIGIN {name}.", "$TTL 30",
                     f"@ SOA ns.{name}. hostmaster.{name}. {int(time.time())} 3600 600 86400 30",
                     f"@ NS ns.{name}.", "ns A 127.0.0.1"]
            for owner, rtype, value in z["records"]:
                lines.append(f"{owner} {rtype} {value}")
            path = os.path.join(self.dir, name + ".zone")
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            if z["mode"] == "unsigned":
                z["file"] = path
                continue
            for b in self.keys[name]:
                with open(os.path.join(self.dir, b + ".key")) as f:
                    lines.append(f.read().strip())
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            subprocess.run(["ldns-signzone", "-n", path] + self.keys[name], cwd=self.dir,
                           check=True, capture_output=True)
            signed = path + ".signed"
            if z["mode"] == "broken":
                # corrupt the signatures over TXT, CAA and CNAME records: answers are bogus
                out = []
                with open(signed) as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) > 5 and parts[3] == "RRSIG" and parts[4] in ("TXT", "CAA", "CNAME"):
                            sig = parts[-1]
                            bad = ("B" if sig[0] != "B" else "C") + sig[1:]
                            line = line.rstrip("\n")[: -len(sig)] + bad + "\n"
                        out.append(line)
                with open(signed, "w") as f:
                    f.writelines(out)
            z["file"] = signed
            with open(os.path.join(self.dir, self.keys[name][0] + ".ds")) as f:
                anchors.append(f.read().strip())
        with open(self.anchor, "w") as f:
            f.write("\n".join(anchors) + "\n")
        os.chmod(self.dir, 0o755)
        for p in glob.glob(os.path.join(self.dir, "*")):
            os.chmod(p, 0o644)
        conf = ["server:", f"  ip-address: 127.0.0.1@{self.port}", f"  port: {self.port}",
                '  username: ""', '  chroot: ""', f'  zonesdir: "{self.dir}"',
                f'  pidfile: "{self.dir}/nsd.pid"', '  database: ""',
                f'  zonelistfile: "{self.dir}/zone.list"', f'  xfrdfile: "{self.dir}/xfrd.state"',
                f'  logfile: "{self.dir}/nsd.log"', "  verbosity: 0", "  server-count: 1",
                "remote-control:", "  control-enable: no"]
        for name, z in self.zones.items():
            conf += ["zone:", f"  name: {name}", f'  zonefile: "{z["file"]}"']
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(conf) + "\n")

    def start(self):
        """(Re)write, sign and serve every zone."""
        self.stop()
        self._write()
        self.proc = subprocess.Popen(["nsd", "-d", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_port(self.port):
            raise RuntimeError("nsd did not start: " + open(os.path.join(self.dir, "nsd.log")).read())
        time.sleep(0.2)

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
