"""Small real documents of every accepted type (the same samples as tests/unit/test_doctype.c)."""
import io
import struct
import zipfile

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a49444154789c63680000008200817 7cd72b60000000049454e44ae426082".replace(" ", ""))

JPG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300" + "01" * 64 +
    "ffc0000b080008000801011100ffc400140001" + "00" * 16 +
    "ffc400141001" + "00" * 16 + "ffda0008010100003f003fffd9")

GIF = bytes.fromhex("474946383961010001008000000000 00ffffff2c00000000010001000002024401003b".replace(" ", ""))

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

TXT = "Certificate of incorporation\nSSL Orders Test B.V., Amsterdam\n".encode()


def tif(le=True):
    e = "<" if le else ">"
    tags = [(256, 3, 1), (257, 3, 1), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0),
            (278, 3, 1), (279, 4, 1)]
    b = (b"II*\0" if le else b"MM\0*") + struct.pack(e + "I", 8) + struct.pack(e + "H", 8)
    for tag, typ, v in tags:
        if tag == 273:
            v = 10 + 8 * 12 + 4
        value = struct.pack(e + "HH", v, 0) if typ == 3 else struct.pack(e + "I", v)
        b += struct.pack(e + "HHI", tag, typ, 1) + value
    return b + struct.pack(e + "I", 0) + b"\x80"


def ole():
    b = bytearray(1536)
    b[0:8] = bytes.fromhex("d0cf11e0a1b11ae1")
    struct.pack_into("<HHHHH", b, 24, 0x3e, 3, 0xfffe, 9, 6)
    struct.pack_into("<I", b, 44, 1)
    struct.pack_into("<I", b, 48, 1)
    struct.pack_into("<I", b, 56, 4096)
    struct.pack_into("<I", b, 60, 0xfffffffe)
    struct.pack_into("<I", b, 68, 0xfffffffe)
    for i in range(109):
        struct.pack_into("<I", b, 76 + 4 * i, 0 if i == 0 else 0xffffffff)
    for i in range(128):
        struct.pack_into("<I", b, 512 + 4 * i, 0xfffffffd if i == 0 else 0xfffffffe if i == 1 else 0xffffffff)
    for i in range(4):
        e = 1024 + 128 * i
        struct.pack_into("<III", b, e + 68, 0xffffffff, 0xffffffff, 0xffffffff)
    root = "Root Entry"
    for i, c in enumerate(root):
        b[1024 + 2 * i] = ord(c)
    struct.pack_into("<H", b, 1024 + 64, (len(root) + 1) * 2)
    b[1024 + 66] = 5
    b[1024 + 67] = 1
    struct.pack_into("<I", b, 1024 + 116, 0xfffffffe)
    return bytes(b)


def zip_of(entries, store_first=False):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for i, (name, data) in enumerate(entries):
            z.writestr(name, data, compress_type=zipfile.ZIP_STORED if (store_first and i == 0)
                       else zipfile.ZIP_DEFLATED)
    return out.getvalue()


ZIP = zip_of([("registration.txt", "Chamber of commerce 12345678\n")])
DOCX = zip_of([("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>")])
ODT = zip_of([("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<office/>")],
             store_first=True)

# name -> (bytes, file name, the type the server detects, its Content-Type)
ALL = {
    "pdf": (PDF, "registration.pdf", "application/pdf"),
    "png": (PNG, "scan.png", "image/png"),
    "jpg": (JPG, "photo.jpeg", "image/jpeg"),
    "gif": (GIF, "logo.gif", "image/gif"),
    "tif": (tif(), "fax.tiff", "image/tiff"),
    "txt": (TXT, "note.txt", "text/plain; charset=utf-8"),
    "zip": (ZIP, "papers.zip", "application/zip"),
    "doc": (ole(), "letter.doc", "application/msword"),
    "docx": (DOCX, "letter.docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "odt": (ODT, "letter.odt", "application/vnd.oasis.opendocument.text"),
}
