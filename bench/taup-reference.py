"""Reference first-arrival times from TauP's ak135 (ObsPy), for test/fixtures/seismo/ak135-taup-first-arrivals.csv.

Not part of CI (ObsPy is large): it documents where the fixture's numbers come from and lets anyone re-create them.
  python3 -m venv /tmp/taup && /tmp/taup/bin/pip install obspy==1.5.1
  /tmp/taup/bin/python bench/taup-reference.py > test/fixtures/seismo/ak135-taup-first-arrivals.csv
TauP: Crotwell, Owens & Ritsema (1999), Seismol. Res. Lett. 70:154-160; ObsPy: Krischer et al. (2015), Comput. Sci.
Discov. 8:014003. `ttp` / `tts` are all P-type / S-type phases (P, p, Pn, Pdiff...), so their least time is the first
arrival, the quantity shared/seismo/ak135-table.json holds.
"""

import random

from obspy.taup import TauPyModel

model = TauPyModel("ak135")
random.seed(13)
points = [(random.uniform(0, 700), random.uniform(0, 40)) for _ in range(250)]
points += [(random.uniform(0, 60), random.uniform(0, 3)) for _ in range(150)]
print("depth_km,distance_deg,p_s,s_s")
for depth, dist in points:
    p = min(a.time for a in model.get_travel_times(depth, dist, phase_list=["ttp"]))
    s = min(a.time for a in model.get_travel_times(depth, dist, phase_list=["tts"]))
    print(f"{depth:.3f},{dist:.4f},{p:.3f},{s:.3f}")
