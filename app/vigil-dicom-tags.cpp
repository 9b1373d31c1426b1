/* The attributes of a DICOM file for the tag browser (vigil-dicom-tag.h):
 * DCMTK reads the file (vigil-dicom-load.cpp: deflated data sets too) and
 * each element becomes a VigilDicomTag with dcmdump's tag, VR and keyword. */
#include "vigil-dicom-private.h"
/* after osconfig.h, which the private header includes first */
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>

extern "C" {
#include "vigil-dicom-tag.h"
}

namespace {

constexpr gsize kMaxValue = 1024; /* longer values are cut, as dcmdump does */

bool binary(DcmEVR vr) {
  switch (vr) {
  case EVR_OB:
  case EVR_OW:
  case EVR_OF:
  case EVR_OD:
  case EVR_OL:
  case EVR_OV:
  case EVR_UN:
  case EVR_ox:
  case EVR_px:
  case EVR_pixelSQ: return true;
  default: return false;
  }
}

/* The value as text: strings and numbers as DCMTK renders them (values
 * joined with '\'), binary data by its length. */
char *value_of(DcmElement *e) {
  const DcmEVR vr = e->ident();
  if (e->getTag() == DCM_PixelData || binary(vr))
    return g_strdup_printf("(%lu bytes)", (unsigned long)e->getLength());
  OFString text;
  if (e->getOFStringArray(text).bad())
    return nullptr;
  if (text.length() > kMaxValue)
    return g_strdup_printf("%.*s...", (int)kMaxValue, text.c_str());
  return g_strdup(text.c_str());
}

void add_item(DcmItem *item, VigilDicomTag *parent, GListStore *top);

VigilDicomTag *tag_of(DcmElement *e) {
  DcmTag tag = e->getTag();
  const bool sq = e->ident() == EVR_SQ;
  g_autofree char *value = sq ? nullptr : value_of(e);
  VigilDicomTag *node = vigil_dicom_tag_new(tag.getGTag(), tag.getETag(),
                                            DcmVR(e->getVR()).getVRName(), tag.getTagName(), value);
  if (!sq)
    return node;
  auto *seq = static_cast<DcmSequenceOfItems *>(e);
  for (unsigned long i = 0; i < seq->card(); i++) {
    g_autofree char *label = g_strdup_printf("#%lu", i + 1);
    VigilDicomTag *item = vigil_dicom_tag_new(0xfffe, 0xe000, "na", "Item", label);
    add_item(seq->getItem(i), item, nullptr);
    vigil_dicom_tag_append(node, item);
    g_object_unref(item);
  }
  return node;
}

void add_item(DcmItem *item, VigilDicomTag *parent, GListStore *top) {
  for (unsigned long i = 0; item && i < item->card(); i++) {
    VigilDicomTag *node = tag_of(item->getElement(i));
    if (parent)
      vigil_dicom_tag_append(parent, node);
    else
      g_list_store_append(top, node);
    g_object_unref(node);
  }
}

} // namespace

extern "C" GListStore *vigil_dicom_tags_read(const char *path, GError **error) {
  vigil_dicom::init_dcmtk();
  vigil_dicom::Loaded loaded;
  if (!vigil_dicom::load_path(loaded, path, error))
    return nullptr;
  GListStore *tags = g_list_store_new(VIGIL_TYPE_DICOM_TAG);
  add_item(loaded.ff.getMetaInfo(), nullptr, tags);
  add_item(loaded.ff.getDataset(), nullptr, tags);
  return tags;
}
