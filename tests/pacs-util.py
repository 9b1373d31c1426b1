#!/usr/bin/python3
"""Helpers of tests/test-pacs-send.sh (Debian's Python: pydicom, urllib).
  pacs-util.py ports N              N free loopback TCP ports, one a line
  pacs-util.py config DIR DICOM HTTP  Orthanc's JSON configuration on stdout
  pacs-util.py fixtures DIR         ct1..ct4.dcm (CT), private.dcm (an unknown
                                    SOP class), truncated.dcm, notes.txt;
                                    DIR/NAME.uid holds each UID
  pacs-util.py wait HTTP SECONDS    until Orthanc's REST API answers
  pacs-util.py holds HTTP UID CLASS  exit 0 when Orthanc holds instance UID of SOP class CLASS
  pacs-util.py lacks HTTP UID       exit 0 when it does not
  pacs-util.py study HTTP UID       one line per instance Orthanc holds in study UID:
                                    Modality, SOP Class UID, Series Instance UID
  pacs-util.py silent PORT SECONDS  listen on PORT and never answer (a hung node)"""
import json
import pathlib
import socket
import sys
import time
import urllib.request

CT = "1.2.840.10008.5.1.4.1.1.2"


def ports(n):
    socks = [socket.socket() for _ in range(int(n))]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    print("\n".join(str(s.getsockname()[1]) for s in socks))
    for s in socks:
        s.close()


def config(folder, dicom, http):
    print(json.dumps({
        "Name": "vigil-test", "StorageDirectory": folder, "IndexDirectory": folder,
        "DicomAet": "ORTHANCTEST", "DicomPort": int(dicom), "HttpPort": int(http),
        "DicomCheckCalledAet": True, "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False, "Plugins": [],
    }, indent=1))


def write_dicom(path, sop_class):
    import numpy as np
    import pydicom
    from pydicom.uid import generate_uid
    from dicom_dataset import new_file_dataset
    ds = new_file_dataset(sop_class, str(path))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Send^Test", "VIGIL-SEND", "CT"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = np.arange(64, dtype=np.int16).tobytes()
    ds.save_as(str(path), write_like_original=False)
    assert pydicom.dcmread(str(path)).SOPInstanceUID == ds.SOPInstanceUID
    path.with_suffix(".uid").write_text(ds.SOPInstanceUID)


def fixtures(folder):
    d = pathlib.Path(folder)
    for i in range(1, 5):
        write_dicom(d / f"ct{i}.dcm", CT)
    write_dicom(d / "private.dcm", "1.3.6.1.4.1.99999.1.1")
    write_dicom(d / "truncated.dcm", CT)  # its meta header reads, its pixels end early
    data = (d / "truncated.dcm").read_bytes()
    (d / "truncated.dcm").write_bytes(data[:-60])
    (d / "notes.txt").write_text("not a DICOM file\n" * 20)


def get(http, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{http}{path}",
                                 data=json.dumps(body).encode() if body else None)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)


def wait(http, seconds):
    end = time.monotonic() + float(seconds)
    while time.monotonic() < end:
        try:
            get(http, "/system")
            return 0
        except OSError:
            time.sleep(0.2)
    print(f"Orthanc's REST API on port {http} did not answer", file=sys.stderr)
    return 1


def classes_of(http, uid):
    return [get(http, f"/instances/{i}/simplified-tags").get("SOPClassUID")
            for i in get(http, "/instances")
            if get(http, f"/instances/{i}/simplified-tags").get("SOPInstanceUID") == uid]


def study(http, uid):
    for i in get(http, "/instances"):
        t = get(http, f"/instances/{i}/simplified-tags")
        if t.get("StudyInstanceUID") == uid:
            print(t.get("Modality"), t.get("SOPClassUID"), t.get("SeriesInstanceUID"))


def silent(port, seconds):
    s = socket.socket()
    s.bind(("127.0.0.1", int(port)))
    s.listen(5)
    time.sleep(float(seconds))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "ports":
        ports(*args)
    elif cmd == "config":
        config(*args)
    elif cmd == "fixtures":
        fixtures(*args)
    elif cmd == "wait":
        return wait(*args)
    elif cmd == "holds":
        found = classes_of(args[0], args[1])
        print(f"instance {args[1]}: SOP classes {found}", file=sys.stderr)
        return 0 if found == [args[2]] else 1
    elif cmd == "lacks":
        return 0 if not classes_of(args[0], args[1]) else 1
    elif cmd == "study":
        study(*args)
    elif cmd == "silent":
        silent(*args)
    return 0


sys.exit(main())
