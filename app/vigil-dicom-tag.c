#include "vigil-dicom-tag.h"

#include <string.h>

struct _VigilDicomTag {
  GObject parent_instance;
  guint16 group, element;
  char tag[12], vr[3];
  char *keyword, *value;
  GListStore *children; /* NULL until one is appended */
};

G_DEFINE_FINAL_TYPE(VigilDicomTag, vigil_dicom_tag, G_TYPE_OBJECT)

VigilDicomTag *vigil_dicom_tag_new(guint16 group, guint16 element, const char *vr,
                                   const char *keyword, const char *value) {
  VigilDicomTag *self = g_object_new(VIGIL_TYPE_DICOM_TAG, NULL);
  self->group = group, self->element = element;
  g_snprintf(self->tag, sizeof self->tag, "(%04x,%04x)", group, element);
  g_strlcpy(self->vr, vr ? vr : "", sizeof self->vr);
  self->keyword = g_strdup(keyword ? keyword : "");
  self->value = g_strdup(value);
  return self;
}

const char *vigil_dicom_tag_get_tag(VigilDicomTag *self) {
  return self->tag;
}

const char *vigil_dicom_tag_get_vr(VigilDicomTag *self) {
  return self->vr;
}

const char *vigil_dicom_tag_get_keyword(VigilDicomTag *self) {
  return self->keyword;
}

const char *vigil_dicom_tag_get_value(VigilDicomTag *self) {
  return self->value;
}

gboolean vigil_dicom_tag_is_private(VigilDicomTag *self) {
  return (self->group & 1) != 0 && self->group != 0xfffe;
}

GListModel *vigil_dicom_tag_get_children(VigilDicomTag *self) {
  return self->children ? G_LIST_MODEL(self->children) : NULL;
}

void vigil_dicom_tag_append(VigilDicomTag *self, VigilDicomTag *child) {
  if (!self->children)
    self->children = g_list_store_new(VIGIL_TYPE_DICOM_TAG);
  g_list_store_append(self->children, child);
}

static gboolean contains_casefold(const char *haystack, const char *needle) {
  if (!haystack)
    return FALSE;
  g_autofree char *h = g_utf8_casefold(haystack, -1);
  return strstr(h, needle) != NULL;
}

gboolean vigil_dicom_tag_matches(VigilDicomTag *self, const char *needle) {
  if (!needle || !*needle)
    return TRUE;
  g_autofree char *n = g_utf8_casefold(needle, -1);
  if (contains_casefold(self->keyword, n) || contains_casefold(self->value, n))
    return TRUE;
  char hex[16]; /* the needle without "(", ",", ")" and spaces: a tag? */
  gsize len = 0;
  for (const char *c = n; *c && len < sizeof hex - 1; c++)
    if (!strchr("(), ", *c))
      hex[len++] = *c;
  hex[len] = 0;
  char bare[9];
  g_snprintf(bare, sizeof bare, "%04x%04x", self->group, self->element);
  return g_str_equal(hex, bare);
}

static void vigil_dicom_tag_finalize(GObject *object) {
  VigilDicomTag *self = VIGIL_DICOM_TAG(object);
  g_free(self->keyword);
  g_free(self->value);
  g_clear_object(&self->children);
  G_OBJECT_CLASS(vigil_dicom_tag_parent_class)->finalize(object);
}

static void vigil_dicom_tag_class_init(VigilDicomTagClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = vigil_dicom_tag_finalize;
}

static void vigil_dicom_tag_init(VigilDicomTag *self) {
  (void)self;
}
