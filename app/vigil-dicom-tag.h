/* VigilDicomTag: one attribute of a DICOM file as dcmdump shows it (tag, VR,
 * keyword, value), with the items of a sequence as children, and those
 * items' attributes as theirs. vigil_dicom_tags_read (DCMTK) reads a file
 * into a list of them; the tag browser shows it as a tree. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_DICOM_TAG (vigil_dicom_tag_get_type())
G_DECLARE_FINAL_TYPE(VigilDicomTag, vigil_dicom_tag, VIGIL, DICOM_TAG, GObject)

/* `keyword` as DCMTK's dictionary names it ("PatientName", "PrivateCreator",
 * "Unknown"); `value` as text (NULL: none). A sequence item is tag
 * (FFFE,E000), VR "na", keyword "Item". */
VigilDicomTag *vigil_dicom_tag_new(guint16 group, guint16 element, const char *vr,
                                   const char *keyword, const char *value);
/* "(0010,0010)", as dcmdump writes it (lower-case hex). */
const char *vigil_dicom_tag_get_tag(VigilDicomTag *self);
const char *vigil_dicom_tag_get_vr(VigilDicomTag *self);
const char *vigil_dicom_tag_get_keyword(VigilDicomTag *self);
const char *vigil_dicom_tag_get_value(VigilDicomTag *self);
/* Odd group: a private attribute (or its creator). */
gboolean vigil_dicom_tag_is_private(VigilDicomTag *self);
/* The items of a sequence, or an item's attributes (NULL: none). */
GListModel *vigil_dicom_tag_get_children(VigilDicomTag *self);
void vigil_dicom_tag_append(VigilDicomTag *self, VigilDicomTag *child);
/* Whether `needle` (case ignored) is in the keyword or the value, or names
 * the tag as "0010,0010", "(0010,0010)" or "00100010". */
gboolean vigil_dicom_tag_matches(VigilDicomTag *self, const char *needle);

/* The attributes of `path` (the file meta header, then the data set) as a
 * list of VigilDicomTag; NULL with VIGIL_SCAN_ERROR when it is not DICOM. */
GListStore *vigil_dicom_tags_read(const char *path, GError **error);

G_END_DECLS
