/* VigilTagBrowser: a window with the DICOM attributes of the slice shown, as
 * dcmdump lists them (a tree: sequences hold items, items attributes; tag,
 * VR, keyword, value; private attributes marked), searched by keyword, tag
 * or value. A slice from another format gets a message instead. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_TAG_BROWSER (vigil_tag_browser_get_type())
G_DECLARE_FINAL_TYPE(VigilTagBrowser, vigil_tag_browser, VIGIL, TAG_BROWSER, AdwWindow)

VigilTagBrowser *vigil_tag_browser_new(GtkWindow *parent);
/* Shows the attributes of DICOM file `path` (NULL: no slice), or `message`
 * when the slice has none (another format). */
void vigil_tag_browser_show(VigilTagBrowser *self, const char *path, const char *message);
/* Filters the rows as typing in the search entry does, and logs how many
 * rows match and the first one ("tags: ..."), for scripts and tests. */
void vigil_tag_browser_search(VigilTagBrowser *self, const char *text);

G_END_DECLS
