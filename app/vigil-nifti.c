/* NIfTI slices: the nifti2 library parses the header (both versions, byte
 * order, qform/sform); voxels are read slice by slice with its znz streams. */
#include "vigil-nifti.h"

#include <math.h>
#include <nifti2_io.h>
#include <string.h>
#include <znzlib.h>

#include "vigil-scan-error.h"

#define MAX_SIDE 65536
#define MAX_SLICE_VOXELS ((gint64)1 << 28)
#define MAX_VOLUME_VOXELS ((gint64)1 << 32)

struct _VigilNifti {
  nifti_image *nim;
  gint64 dim[3];
  int axial, col, row;                     /* voxel axes shown across slices, columns, rows */
  gboolean axial_flip, col_flip, row_flip; /* index runs against the screen direction */
  double slope, inter;
};

void vigil_nifti_free(VigilNifti *nifti) {
  if (!nifti)
    return;
  nifti_image_free(nifti->nim);
  g_free(nifti);
}

static gboolean fail(GError **error, int code, const char *path, const char *what) {
  g_set_error(error, VIGIL_SCAN_ERROR, code, "%s: %s", path, what);
  return FALSE;
}

/* Raw header fields in either byte order, read before the library sees the
 * header: it prints to stderr and gives no reason on bad dims. */
typedef struct {
  const guint8 *buf;
  gboolean swap;
} Raw;

static guint64 raw_bits(const Raw *r, int offset, int size) {
  guint64 v = 0;
  for (int i = 0; i < size; i++)
    v |= (guint64)r->buf[offset + (r->swap ? i : size - 1 - i)] << (8 * (size - 1 - i));
  return v; /* little-endian when !swap */
}

static gint64 raw_int(const Raw *r, int offset, int size) {
  const guint64 v = raw_bits(r, offset, size);
  return size == 2 ? (gint16)v : size == 4 ? (gint32)v : (gint64)v;
}

static double raw_real(const Raw *r, int offset, int size) {
  const guint64 v = raw_bits(r, offset, size);
  if (size == 4) {
    const guint32 u = (guint32)v;
    float f;
    memcpy(&f, &u, 4);
    return f;
  }
  double d;
  memcpy(&d, &v, 8);
  return d;
}

static gboolean check_raw(const guint8 *buf, int version, const char *path, GError **error) {
  const int hdr_size = version == 1 ? 348 : 540;
  Raw r = {buf, FALSE};
  r.swap = raw_int(&r, 0, 4) != hdr_size;
  const int dim_at = version == 1 ? 40 : 16, dim_size = version == 1 ? 2 : 8;
  const int pix_at = version == 1 ? 76 : 104, pix_size = version == 1 ? 4 : 8;
  const gint64 ndim = raw_int(&r, dim_at, dim_size);
  if (ndim < 1 || ndim > 7)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, path, "dim[0] is not 1..7");
  for (int a = 1; a <= 3 && a <= ndim; a++) {
    const gint64 d = raw_int(&r, dim_at + a * dim_size, dim_size);
    if (d < 1 || d > MAX_SIDE) {
      g_autofree char *msg =
          g_strdup_printf("dim[%d] = %" G_GINT64_FORMAT " is not 1..%d", a, d, MAX_SIDE);
      return fail(error, VIGIL_SCAN_ERROR_INVALID, path, msg);
    }
    const double p = raw_real(&r, pix_at + a * pix_size, pix_size);
    if (!isfinite(p) || p <= 0) {
      g_autofree char *msg = g_strdup_printf("pixdim[%d] = %g is not a positive size", a, p);
      return fail(error, VIGIL_SCAN_ERROR_INVALID, path, msg);
    }
  }
  return TRUE;
}

/* Reads the first bytes to tell "not there", "not NIfTI" and "bad header" apart. */
static gboolean sniff(const char *path, GError **error) {
  znzFile fp = znzopen(path, "rb", nifti_is_gzfile(path));
  if (znz_isnull(fp))
    return fail(error, VIGIL_SCAN_ERROR_IO, path, "cannot open the file");
  guint8 buf[540] = {0};
  const size_t n = znzread(buf, 1, sizeof buf, fp);
  znzclose(fp);
  if (n < 348)
    return fail(error, VIGIL_SCAN_ERROR_TRUNCATED, path, "shorter than a NIfTI header");
  const int version = nifti_header_version((const char *)buf, n);
  if (version != 1 && version != 2)
    return fail(error, VIGIL_SCAN_ERROR_FORMAT, path, "not a NIfTI-1 or NIfTI-2 file");
  if (version == 2 && n < 540)
    return fail(error, VIGIL_SCAN_ERROR_TRUNCATED, path, "shorter than a NIfTI-2 header");
  return check_raw(buf, version, path, error);
}

static gboolean supported_type(int dt) {
  switch (dt) {
  case DT_UINT8:
  case DT_INT8:
  case DT_INT16:
  case DT_UINT16:
  case DT_INT32:
  case DT_UINT32:
  case DT_INT64:
  case DT_UINT64:
  case DT_FLOAT32:
  case DT_FLOAT64: return TRUE;
  default: return FALSE;
  }
}

static gboolean check_dims(const nifti_image *nim, const char *path, GError **error) {
  if (!supported_type(nim->datatype)) {
    g_autofree char *msg =
        g_strdup_printf("voxel type %s is not supported", nifti_datatype_string(nim->datatype));
    return fail(error, VIGIL_SCAN_ERROR_UNSUPPORTED, path, msg);
  }
  for (int d = 1; d <= 3; d++) /* the library agrees with check_raw */
    if ((d <= nim->dim[0] && (nim->dim[d] < 1 || nim->dim[d] > MAX_SIDE)) || !(nim->pixdim[d] > 0))
      return fail(error, VIGIL_SCAN_ERROR_INVALID, path, "invalid dims or pixdim");
  return TRUE;
}

/* Axis roles from the orientation codes of the voxel axes. */
static gboolean orient(VigilNifti *n, const char *path, GError **error) {
  const nifti_image *nim = n->nim;
  const nifti_dmat44 m = nim->sform_code > 0 ? nim->sto_xyz : nim->qto_xyz;
  int code[3] = {0};
  nifti_dmat44_to_orientation(m, &code[0], &code[1], &code[2]);
  n->axial = n->col = n->row = -1;
  for (int a = 0; a < 3; a++) {
    switch (code[a]) {
    case NIFTI_L2R:
    case NIFTI_R2L: /* screen x runs to the patient's left */
      n->col = a, n->col_flip = code[a] == NIFTI_L2R;
      break;
    case NIFTI_P2A:
    case NIFTI_A2P: /* screen y runs anterior to posterior */
      n->row = a, n->row_flip = code[a] == NIFTI_P2A;
      break;
    case NIFTI_I2S:
    case NIFTI_S2I: /* slice 0 is the most inferior */
      n->axial = a, n->axial_flip = code[a] == NIFTI_S2I;
      break;
    default: break;
    }
  }
  if (n->axial < 0 || n->col < 0 || n->row < 0)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, path,
                "the qform/sform does not give three distinct patient axes");
  return TRUE;
}

static gboolean check_size(const VigilNifti *n, const char *path, GError **error) {
  const gint64 voxels = n->dim[0] * n->dim[1] * n->dim[2];
  if (n->dim[n->col] * n->dim[n->row] > MAX_SLICE_VOXELS || voxels > MAX_VOLUME_VOXELS)
    return fail(error, VIGIL_SCAN_ERROR_INVALID, path, "the volume is too large");
  if (n->nim->iname_offset < 0 || n->nim->iname_offset > ((gint64)1 << 40))
    return fail(error, VIGIL_SCAN_ERROR_INVALID, path, "vox_offset is negative or absurd");
  if (nifti_is_gzfile(n->nim->iname))
    return TRUE; /* the stream tells on reading */
  const gint64 need = n->nim->iname_offset + voxels * n->nim->nbyper;
  const gint64 have = nifti_get_filesize(n->nim->iname);
  if (have < need) {
    g_autofree char *msg = g_strdup_printf(
        "the header claims %" G_GINT64_FORMAT " bytes of voxels after offset %" G_GINT64_FORMAT
        " but the file holds %" G_GINT64_FORMAT " bytes",
        voxels * n->nim->nbyper, (gint64)n->nim->iname_offset, have);
    return fail(error, VIGIL_SCAN_ERROR_TRUNCATED, path, msg);
  }
  return TRUE;
}

VigilNifti *vigil_nifti_open(const char *path, GError **error) {
  nifti_set_debug_level(0); /* errors come back as GErrors, not on stderr */
  if (!sniff(path, error))
    return NULL;
  nifti_image *nim = nifti_image_read(path, 0);
  if (!nim) {
    fail(error, VIGIL_SCAN_ERROR_FORMAT, path,
         "invalid NIfTI header (or a name not ending in .nii, .nii.gz or .hdr)");
    return NULL;
  }
  g_autoptr(VigilNifti) n = g_new0(VigilNifti, 1);
  n->nim = nim;
  if (!check_dims(nim, path, error) || !nim->iname)
    return NULL;
  for (int a = 0; a < 3; a++)
    n->dim[a] = a < nim->dim[0] ? nim->dim[a + 1] : 1;
  if (!orient(n, path, error) || !check_size(n, path, error))
    return NULL;
  n->slope = nim->scl_slope, n->inter = nim->scl_inter;
  if (n->slope == 0 || !isfinite(n->slope) || !isfinite(n->inter))
    n->slope = 1, n->inter = 0;
  return g_steal_pointer(&n);
}

int vigil_nifti_n_slices(const VigilNifti *nifti) {
  return (int)nifti->dim[nifti->axial];
}

void vigil_nifti_slice_size(const VigilNifti *nifti, int *width, int *height) {
  *width = (int)nifti->dim[nifti->col];
  *height = (int)nifti->dim[nifti->row];
}

void vigil_nifti_pixel_spacing(const VigilNifti *nifti, double spacing[2]) {
  spacing[0] = nifti->nim->pixdim[nifti->row + 1];
  spacing[1] = nifti->nim->pixdim[nifti->col + 1];
}

double vigil_nifti_slice_spacing(const VigilNifti *nifti) {
  return nifti->nim->pixdim[nifti->axial + 1];
}

/* Unit direction of voxel axis `a` in LPS (the matrix maps voxels to RAS). */
static void axis_direction(const VigilNifti *n, int a, gboolean flip, double out[3]) {
  const nifti_dmat44 m = n->nim->sform_code > 0 ? n->nim->sto_xyz : n->nim->qto_xyz;
  const double ras[3] = {m.m[0][a], m.m[1][a], m.m[2][a]};
  const double len = sqrt(ras[0] * ras[0] + ras[1] * ras[1] + ras[2] * ras[2]);
  const double s = (flip ? -1 : 1) / (len > 0 ? len : 1);
  out[0] = -ras[0] * s, out[1] = -ras[1] * s, out[2] = ras[2] * s;
}

void vigil_nifti_orientation(const VigilNifti *nifti, double orientation[6]) {
  axis_direction(nifti, nifti->col, nifti->col_flip, orientation);
  axis_direction(nifti, nifti->row, nifti->row_flip, orientation + 3);
}

gboolean vigil_nifti_header_window(const VigilNifti *nifti, VigilWindowLevel *window) {
  const double lo = nifti->nim->cal_min, hi = nifti->nim->cal_max;
  if (!isfinite(lo) || !isfinite(hi) || hi <= lo)
    return FALSE;
  window->center = (lo + hi) / 2 + 0.5; /* lo shows black, hi white */
  window->width = MAX(hi - lo + 1, 1);
  return TRUE;
}

static double voxel(const guint8 *p, int dt) {
  switch (dt) { /* memcpy: raw bytes carry no alignment guarantee */
#define AS(T)                                                                                      \
  {                                                                                                \
    T v;                                                                                           \
    memcpy(&v, p, sizeof v);                                                                       \
    return (double)v;                                                                              \
  }
  case DT_UINT8: AS(guint8)
  case DT_INT8: AS(gint8)
  case DT_INT16: AS(gint16)
  case DT_UINT16: AS(guint16)
  case DT_INT32: AS(gint32)
  case DT_UINT32: AS(guint32)
  case DT_INT64: AS(gint64)
  case DT_UINT64: AS(guint64)
  case DT_FLOAT32: AS(float)
  default: AS(double)
#undef AS
  }
}

#define CHUNK_VOXELS 65536

typedef struct {
  const VigilNifti *n;
  VigilImage *image;
  int p, q; /* the in-plane voxel axes, p < q */
} SliceOut;

/* Stores in-plane voxel number `l` (axis p fastest) at its screen position. */
static void put(const SliceOut *o, gint64 l, double v) {
  const VigilNifti *n = o->n;
  const gint64 ip = l % n->dim[o->p], iq = l / n->dim[o->p];
  gint64 x = n->col == o->p ? ip : iq, y = n->row == o->p ? ip : iq;
  if (n->col_flip)
    x = n->dim[n->col] - 1 - x;
  if (n->row_flip)
    y = n->dim[n->row] - 1 - y;
  o->image->values[y * o->image->width + x] = (float)(v * n->slope + n->inter);
}

/* Reads `count` voxels at voxel number `first` into in-plane positions from `l`. */
static gboolean read_run(znzFile fp, const SliceOut *o, gint64 first, gint64 count, gint64 l,
                         guint8 *buf) {
  const nifti_image *nim = o->n->nim;
  const gboolean swap = nim->byteorder != nifti_short_order() && nim->swapsize > 1;
  if (znzseek(fp, (znz_off_t)(nim->iname_offset + first * nim->nbyper), SEEK_SET) < 0)
    return FALSE;
  for (gint64 done = 0; done < count;) {
    const gint64 k = MIN(count - done, CHUNK_VOXELS);
    if (znzread(buf, (size_t)nim->nbyper, (size_t)k, fp) != (size_t)k)
      return FALSE;
    if (swap)
      nifti_swap_Nbytes(k, nim->swapsize, buf);
    for (gint64 i = 0; i < k; i++)
      put(o, l + done + i, voxel(buf + i * nim->nbyper, nim->datatype));
    done += k;
  }
  return TRUE;
}

VigilImage *vigil_nifti_read_slice(const VigilNifti *nifti, int index, GError **error) {
  const int a = nifti->axial;
  const char *path = nifti->nim->fname;
  if (index < 0 || index >= nifti->dim[a]) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_INVALID, "%s: slice %d is not in 0..%d",
                path, index, (int)nifti->dim[a] - 1);
    return NULL;
  }
  int w, h;
  vigil_nifti_slice_size(nifti, &w, &h);
  g_autoptr(VigilImage) image = vigil_image_new(w, h, VIGIL_IMAGE_GRAY, error);
  if (!image)
    return NULL;
  const SliceOut o = {nifti, image, a == 0 ? 1 : 0, a == 2 ? 1 : 2};
  /* The slice is runs of `inner` consecutive voxels, `outer` apart in the file. */
  const gint64 s = nifti->axial_flip ? nifti->dim[a] - 1 - index : index;
  const gint64 inner = a == 0 ? 1 : a == 1 ? nifti->dim[0] : nifti->dim[0] * nifti->dim[1];
  const gint64 outer = inner * nifti->dim[a];
  const gint64 runs = nifti->dim[0] * nifti->dim[1] * nifti->dim[2] / outer;
  znzFile fp = znzopen(nifti->nim->iname, "rb", nifti_is_gzfile(nifti->nim->iname));
  if (znz_isnull(fp)) {
    fail(error, VIGIL_SCAN_ERROR_IO, nifti->nim->iname, "cannot open the voxel data");
    return NULL;
  }
  g_autofree guint8 *buf = g_malloc((gsize)MIN(inner, CHUNK_VOXELS) * nifti->nim->nbyper);
  gboolean ok = TRUE;
  for (gint64 r = 0; ok && r < runs; r++)
    ok = read_run(fp, &o, r * outer + s * inner, inner, r * inner, buf);
  znzclose(fp);
  if (!ok) {
    g_set_error(error, VIGIL_SCAN_ERROR, VIGIL_SCAN_ERROR_TRUNCATED,
                "%s: the voxel data of slice %d ends early", path, index);
    return NULL;
  }
  vigil_image_update_range(image);
  vigil_nifti_pixel_spacing(nifti, image->pixel_spacing);
  if (image->pixel_spacing[0] > 0 && image->pixel_spacing[1] > 0)
    image->spacing_source = VIGIL_SPACING_VOXEL;
  return g_steal_pointer(&image);
}
