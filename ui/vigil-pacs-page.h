/* VigilPacsPage: Preferences → PACS: the DICOM nodes reports are sent to
 * (name, called AE title, host, port; added, edited, removed, each with a
 * connection test by C-ECHO), the one Send to PACS uses, and Vigil's own AE
 * title. Everything is stored in GSettings at once (vigil-pacs-nodes.h). */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VIGIL_TYPE_PACS_PAGE (vigil_pacs_page_get_type())
G_DECLARE_FINAL_TYPE(VigilPacsPage, vigil_pacs_page, VIGIL, PACS_PAGE, AdwPreferencesPage)

GtkWidget *vigil_pacs_page_new(GSettings *settings);

G_END_DECLS
