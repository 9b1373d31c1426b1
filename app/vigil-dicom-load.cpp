/* Opening DICOM files: DCMTK's decoders registered once, the load itself
 * with large values left on disk, deflated datasets inflated through DCMTK's
 * zlib filter into a memory file, and memory files for data in memory. */
#include "vigil-dicom-private.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "vigil-scan-error.h"

namespace vigil_dicom {

void init_dcmtk() {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    /* Errors are reported through GError; DCMTK's own log would be noise. */
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();   /* JPEG baseline, extended, lossless */
    DJLSDecoderRegistration::registerCodecs(); /* JPEG-LS */
    DcmRLEDecoderRegistration::registerCodecs();
    g_once_init_leave(&once, 1);
  }
}

namespace {

/* An inflated dataset larger than this is refused: a few kilobytes of
 * deflate can expand a thousandfold, and real deflated images are small. */
constexpr guint64 kMaxInflatedBytes = (guint64)1 << 30;

bool load_condition(OFCondition c, GError **error) {
  if (c.good())
    return true;
  int code = VIGIL_SCAN_ERROR_FORMAT;
  const char *what = "not a readable DICOM file";
  if (c == EC_InvalidFilename) {
    code = VIGIL_SCAN_ERROR_IO;
    what = "cannot open the file";
  } else if (c == EC_StreamNotifyClient || c == EC_ItemEnd || c == EC_SequEnd) {
    code = VIGIL_SCAN_ERROR_TRUNCATED;
    what = "the file ends early";
  }
  return vigil_scan_fail(error, code, "%s (%s)", what, c.text());
}

/* Explicit VR little endian: tag, VR, then a 2-byte length, or 2 reserved
 * bytes and a 4-byte length for OB. */
void put_element(GByteArray *out, guint16 element, const char *vr, const void *value,
                 guint32 length) {
  const guint16 tag[2] = {GUINT16_TO_LE(0x0002), GUINT16_TO_LE(element)};
  g_byte_array_append(out, (const guint8 *)tag, 4);
  g_byte_array_append(out, (const guint8 *)vr, 2);
  if (strcmp(vr, "OB") == 0) {
    const guint8 reserved[2] = {0, 0};
    const guint32 len = GUINT32_TO_LE(length);
    g_byte_array_append(out, reserved, 2);
    g_byte_array_append(out, (const guint8 *)&len, 4);
  } else {
    const guint16 len = GUINT16_TO_LE((guint16)length);
    g_byte_array_append(out, (const guint8 *)&len, 2);
  }
  g_byte_array_append(out, (const guint8 *)value, length);
}

/* Preamble, "DICM" and a minimal meta header saying explicit VR little
 * endian: the dataset itself carries the SOP class and instance. */
GByteArray *explicit_le_header() {
  static const char uid[] = UID_LittleEndianExplicitTransferSyntax; /* 19 chars + NUL pad */
  static const guint8 version[2] = {0, 1};
  g_autoptr(GByteArray) group = g_byte_array_new();
  put_element(group, 0x0001, "OB", version, 2);
  put_element(group, 0x0010, "UI", uid, (sizeof uid + 1) & ~1u);
  GByteArray *out = g_byte_array_sized_new(256);
  g_byte_array_set_size(out, 128);
  memset(out->data, 0, 128);
  g_byte_array_append(out, (const guint8 *)"DICM", 4);
  const guint32 group_length = GUINT32_TO_LE(group->len);
  put_element(out, 0x0000, "UL", &group_length, 4);
  g_byte_array_append(out, group->data, group->len);
  return out;
}

/* Inflates the dataset after the meta header (read by the caller from `in`)
 * into a memory file DCMTK can then read lazily, with bounded size. */
std::unique_ptr<MemoryFile> inflate_dataset(DcmInputFileStream &in, GError **error) {
  g_autoptr(GByteArray) header = explicit_le_header();
  auto file = std::make_unique<MemoryFile>(header->data, header->len);
  if (!file->path()) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_IO, "cannot make a memory file: %s", g_strerror(errno));
    return nullptr;
  }
  if (in.installCompressionFilter(ESC_zlib).bad()) {
    vigil_scan_fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED, "this DCMTK cannot inflate (no zlib)");
    return nullptr;
  }
  std::unique_ptr<guint8[]> chunk(new guint8[64 * 1024]);
  guint64 total = 0;
  while (!in.eos()) {
    const offile_off_t n = in.read(chunk.get(), 64 * 1024);
    if (in.status().bad()) {
      vigil_scan_fail(error, VIGIL_SCAN_ERROR_TRUNCATED,
                      "the deflated dataset is corrupt or cut (%s)", in.status().text());
      return nullptr;
    }
    if (n <= 0)
      break;
    total += (guint64)n;
    if (total > kMaxInflatedBytes) {
      vigil_scan_fail(error, VIGIL_SCAN_ERROR_INVALID,
                      "the deflated dataset inflates past %" G_GUINT64_FORMAT " MiB",
                      kMaxInflatedBytes >> 20);
      return nullptr;
    }
    if (!file->append(chunk.get(), (gsize)n)) {
      vigil_scan_fail(error, VIGIL_SCAN_ERROR_IO, "cannot write the inflated dataset: %s",
                      g_strerror(errno));
      return nullptr;
    }
  }
  return file;
}

/* Reads the meta header alone: the Transfer Syntax UID, and for a deflated
 * dataset its inflated copy. A header that cannot be read is left to
 * loadFile, which reports it. */
bool read_meta(Loaded &loaded, const char *path, GError **error) {
  DcmInputFileStream in(path);
  if (in.status().bad())
    return true;
  DcmMetaInfo meta;
  meta.transferInit();
  OFCondition c = meta.read(in, EXS_Unknown, EGL_noChange, kLazyBytes);
  meta.transferEnd();
  if (c.bad() || meta.findAndGetOFString(DCM_TransferSyntaxUID, loaded.xfer_uid).bad())
    return true; /* values may claim more than the file holds: do not touch them */
  loaded.xfer_uid = OFString(trim(loaded.xfer_uid).data(), trim(loaded.xfer_uid).size());
  if (DcmXfer(loaded.xfer_uid.c_str()).getXfer() != EXS_DeflatedLittleEndianExplicit)
    return true;
  loaded.inflated = inflate_dataset(in, error);
  return loaded.inflated != nullptr;
}

} // namespace

MemoryFile::MemoryFile(const guint8 *data, gsize size) {
  fd_ = memfd_create("vigil-dicom", MFD_CLOEXEC);
  if (fd_ >= 0 && append(data, size))
    path_ = g_strdup_printf("/proc/self/fd/%d", fd_);
}

MemoryFile::~MemoryFile() {
  g_free(path_);
  if (fd_ >= 0)
    close(fd_);
}

bool MemoryFile::append(const void *data, gsize size) {
  const guint8 *p = (const guint8 *)data;
  while (size > 0) {
    ssize_t n = write(fd_, p, size);
    if (n <= 0)
      return false;
    p += n, size -= (gsize)n;
  }
  return true;
}

bool load_path(Loaded &loaded, const char *path, GError **error) {
  init_dcmtk();
  if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_IO, "no such file");
  if (access(path, R_OK) != 0)
    return vigil_scan_fail(error, VIGIL_SCAN_ERROR_IO, "cannot read the file: %s",
                           g_strerror(errno));
  if (!read_meta(loaded, path, error))
    return false;
  const char *source = loaded.inflated ? loaded.inflated->path() : path;
  if (!load_condition(loaded.ff.loadFile(source, EXS_Unknown, EGL_noChange, kLazyBytes), error))
    return false;
  if (loaded.xfer_uid.empty()) /* no meta header: a bare dataset */
    loaded.xfer_uid = DcmXfer(loaded.ff.getDataset()->getOriginalXfer()).getXferID();
  return true;
}

} // namespace vigil_dicom
