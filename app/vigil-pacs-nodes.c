/* The PACS nodes of the preferences: see vigil-pacs-nodes.h. */
#include "vigil-pacs-nodes.h"

void vigil_pacs_node_free(VigilPacsNode *node) {
  if (!node)
    return;
  g_free(node->name), g_free(node->called_aet), g_free(node->host);
  g_free(node);
}

GPtrArray *vigil_pacs_nodes_read(GSettings *settings) {
  GPtrArray *nodes = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_pacs_node_free);
  g_autoptr(GVariant) list = g_settings_get_value(settings, "pacs-nodes");
  GVariantIter it;
  const char *name, *aet, *host;
  gint32 port;
  g_variant_iter_init(&it, list);
  while (g_variant_iter_next(&it, "(&s&s&si)", &name, &aet, &host, &port)) {
    VigilPacsNode *node = g_new0(VigilPacsNode, 1);
    node->name = g_strdup(name), node->called_aet = g_strdup(aet), node->host = g_strdup(host);
    node->port = port;
    g_ptr_array_add(nodes, node);
  }
  return nodes;
}

void vigil_pacs_nodes_write(GSettings *settings, GPtrArray *nodes) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE(VIGIL_PACS_NODES_TYPE));
  for (guint i = 0; i < nodes->len; i++) {
    const VigilPacsNode *n = nodes->pdata[i];
    g_variant_builder_add(&b, "(sssi)", n->name ? n->name : "", n->called_aet ? n->called_aet : "",
                          n->host ? n->host : "", n->port);
  }
  g_settings_set_value(settings, "pacs-nodes", g_variant_builder_end(&b));
}

VigilPacsNode *vigil_pacs_nodes_chosen(GSettings *settings, GError **error) {
  g_autoptr(GPtrArray) nodes = vigil_pacs_nodes_read(settings);
  g_autofree char *chosen = g_settings_get_string(settings, "pacs-node");
  guint pick = 0;
  for (guint i = 0; i < nodes->len; i++)
    if (g_strcmp0(((VigilPacsNode *)nodes->pdata[i])->name, chosen) == 0)
      pick = i;
  if (nodes->len == 0) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                        "Add a PACS node in Preferences first");
    return NULL;
  }
  return g_ptr_array_steal_index(nodes, pick);
}

VigilPacsPeer vigil_pacs_node_peer(const VigilPacsNode *node, const char *calling_aet) {
  return (VigilPacsPeer){.host = node->host,
                         .port = node->port,
                         .called_aet = node->called_aet,
                         .calling_aet = calling_aet};
}

char *vigil_pacs_node_describe(const VigilPacsNode *node) {
  const VigilPacsPeer peer = vigil_pacs_node_peer(node, NULL);
  g_autofree char *address = vigil_pacs_peer_describe(&peer);
  return node->name && *node->name ? g_strdup_printf("%s (%s)", node->name, address)
                                   : g_steal_pointer(&address);
}
