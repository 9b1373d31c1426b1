/* The DICOM nodes a user sends reports to, as Preferences keeps them: the
 * GSettings key pacs-nodes holds a list of (name, called AE title, host,
 * port), pacs-node names the one Send to PACS uses, and pacs-calling-aet is
 * Vigil's own AE title for all of them. GLib only: the window, Preferences
 * and tests read and write the same list through these functions. */
#pragma once

#include <gio/gio.h>

#include "vigil-dicom-send.h"

G_BEGIN_DECLS

typedef struct {
  char *name, *called_aet, *host;
  int port;
} VigilPacsNode;

#define VIGIL_PACS_NODES_TYPE "a(sssi)"

void vigil_pacs_node_free(VigilPacsNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPacsNode, vigil_pacs_node_free)
/* The nodes of `settings` (VigilPacsNode*, in order). */
GPtrArray *vigil_pacs_nodes_read(GSettings *settings);
void vigil_pacs_nodes_write(GSettings *settings, GPtrArray *nodes);
/* The node Send to PACS uses: pacs-node's, else the first; NULL (with a
 * message) when there is none. Free with vigil_pacs_node_free. */
VigilPacsNode *vigil_pacs_nodes_chosen(GSettings *settings, GError **error);
/* `node` as a peer for vigil_pacs_send (borrows its strings and `calling_aet`). */
VigilPacsPeer vigil_pacs_node_peer(const VigilPacsNode *node, const char *calling_aet);
/* "Name (AE@host:port)", or the address alone when the node has no name. */
char *vigil_pacs_node_describe(const VigilPacsNode *node);

G_END_DECLS
