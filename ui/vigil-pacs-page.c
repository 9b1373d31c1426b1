/* VigilPacsPage: see vigil-pacs-page.h. Each node is an expander row with
 * its fields; any edit writes the whole list back. */
#include "vigil-pacs-page.h"

#include "vigil-job.h"
#include "vigil-pacs-nodes.h"

typedef struct _VigilPacsPage VigilPacsPage;

typedef struct {
  VigilPacsPage *page;
  AdwExpanderRow *row;
  AdwEntryRow *name, *aet, *host;
  GtkSpinButton *port;
  AdwActionRow *test_row;
  GtkButton *test_button;
} NodeRows;

struct _VigilPacsPage {
  AdwPreferencesPage parent_instance;
  AdwPreferencesGroup *nodes_group;
  AdwComboRow *chosen_row;
  AdwEntryRow *calling_row;
  GSettings *settings;
  GPtrArray *rows;  /* NodeRows*, in the list's order */
  gboolean writing; /* our own change: the rows already show it */
};

G_DEFINE_FINAL_TYPE(VigilPacsPage, vigil_pacs_page, ADW_TYPE_PREFERENCES_PAGE)

static VigilPacsNode *node_of(const NodeRows *r) {
  VigilPacsNode *n = g_new0(VigilPacsNode, 1);
  n->name = g_strdup(gtk_editable_get_text(GTK_EDITABLE(r->name)));
  n->called_aet = g_strdup(gtk_editable_get_text(GTK_EDITABLE(r->aet)));
  n->host = g_strdup(gtk_editable_get_text(GTK_EDITABLE(r->host)));
  n->port = gtk_spin_button_get_value_as_int(r->port);
  return n;
}

static void show_node(NodeRows *r) {
  g_autoptr(VigilPacsNode) n = node_of(r);
  g_autofree char *title = g_markup_escape_text(*n->name ? n->name : "Unnamed node", -1);
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r->row), title);
  g_autofree char *address = g_markup_printf_escaped("%s@%s:%d", n->called_aet, n->host, n->port);
  adw_expander_row_set_subtitle(r->row, address);
}

/* The names in the "Send reports to" row, the setting's one selected. */
static void show_choice(VigilPacsPage *self) {
  g_autoptr(GtkStringList) names = gtk_string_list_new(NULL);
  g_autofree char *chosen = g_settings_get_string(self->settings, "pacs-node");
  guint selected = 0;
  for (guint i = 0; i < self->rows->len; i++) {
    g_autoptr(VigilPacsNode) n = node_of(self->rows->pdata[i]);
    gtk_string_list_append(names, n->name);
    if (g_str_equal(n->name, chosen))
      selected = i;
  }
  self->writing = TRUE;
  adw_combo_row_set_model(self->chosen_row, G_LIST_MODEL(names));
  adw_combo_row_set_selected(self->chosen_row, selected);
  gtk_widget_set_sensitive(GTK_WIDGET(self->chosen_row), self->rows->len > 0);
  self->writing = FALSE;
}

static void store(VigilPacsPage *self) {
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_pacs_node_free);
  for (guint i = 0; i < self->rows->len; i++) {
    show_node(self->rows->pdata[i]);
    g_ptr_array_add(nodes, node_of(self->rows->pdata[i]));
  }
  self->writing = TRUE;
  vigil_pacs_nodes_write(self->settings, nodes);
  self->writing = FALSE;
  show_choice(self);
}

/* ---- the connection test: a C-ECHO on a worker ---- */

typedef struct {
  VigilPacsNode *node;
  char *calling;
  VigilPacsPeer peer;
  NodeRows *rows; /* NULL once the rows went */
} Echo;

static void echo_free(gpointer data) {
  Echo *e = data;
  vigil_pacs_node_free(e->node);
  g_free(e->calling);
  g_free(e);
}

static gboolean echo_in_thread(VigilJob *job, gpointer data, GCancellable *cancellable,
                               GError **error) {
  (void)job;
  Echo *e = data;
  return vigil_pacs_echo(&e->peer, cancellable, error);
}

static void on_echoed(GObject *source, GAsyncResult *result, gpointer user_data) {
  VigilPacsPage *self = user_data;
  Echo *e = g_object_get_data(source, "vigil-echo");
  g_autoptr(GError) error = NULL;
  g_autofree char *node = vigil_pacs_node_describe(e->node);
  g_autofree char *text = vigil_job_run_finish(VIGIL_JOB(source), result, &error)
                              ? g_strdup_printf("%s answered", node)
                              : g_strdup(error->message);
  g_message("pacs test: %s", text);
  for (guint i = 0; self->rows && i < self->rows->len; i++)
    if (self->rows->pdata[i] == e->rows) { /* still shown */
      adw_action_row_set_subtitle(e->rows->test_row, text);
      gtk_widget_set_sensitive(GTK_WIDGET(e->rows->test_button), TRUE);
    }
  g_object_unref(self);
}

static void on_test_clicked(NodeRows *r) {
  Echo *e = g_new0(Echo, 1);
  e->node = node_of(r);
  e->calling = g_settings_get_string(r->page->settings, "pacs-calling-aet");
  e->peer = vigil_pacs_node_peer(e->node, e->calling);
  e->peer.timeout_s = 10;
  e->rows = r;
  g_autoptr(GError) error = NULL;
  if (!vigil_pacs_peer_validate(&e->peer, &error)) {
    adw_action_row_set_subtitle(r->test_row, error->message);
    echo_free(e);
    return;
  }
  adw_action_row_set_subtitle(r->test_row, "Testing…");
  gtk_widget_set_sensitive(GTK_WIDGET(r->test_button), FALSE);
  g_autoptr(VigilJob) job = vigil_job_new("PACS echo", echo_in_thread, e, echo_free);
  g_object_set_data(G_OBJECT(job), "vigil-echo", e);
  vigil_job_run_async(job, NULL, on_echoed, g_object_ref(r->page));
}

/* ---- the rows ---- */

static void rebuild(VigilPacsPage *self);

static void on_remove_clicked(NodeRows *r) {
  VigilPacsPage *self = r->page;
  adw_preferences_group_remove(self->nodes_group, GTK_WIDGET(r->row));
  g_ptr_array_remove(self->rows, r);
  store(self);
}

static AdwEntryRow *entry_row(NodeRows *r, const char *title, const char *text) {
  AdwEntryRow *row = ADW_ENTRY_ROW(adw_entry_row_new());
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
  gtk_editable_set_text(GTK_EDITABLE(row), text);
  g_signal_connect_swapped(row, "changed", G_CALLBACK(store), r->page);
  adw_expander_row_add_row(r->row, GTK_WIDGET(row));
  return row;
}

static GtkButton *button(const char *label, GCallback clicked, NodeRows *r) {
  GtkButton *b = GTK_BUTTON(gtk_button_new_with_mnemonic(label));
  gtk_widget_set_valign(GTK_WIDGET(b), GTK_ALIGN_CENTER);
  g_signal_connect_swapped(b, "clicked", clicked, r);
  return b;
}

static NodeRows *node_rows_new(VigilPacsPage *self, const VigilPacsNode *n) {
  NodeRows *r = g_new0(NodeRows, 1);
  r->page = self;
  r->row = ADW_EXPANDER_ROW(adw_expander_row_new());
  r->name = entry_row(r, "Name", n->name);
  r->aet = entry_row(r, "Called AE title (the node's)", n->called_aet);
  r->host = entry_row(r, "Host", n->host);
  AdwActionRow *port_row = ADW_ACTION_ROW(adw_action_row_new());
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(port_row), "Port");
  r->port = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, 65535, 1));
  gtk_spin_button_set_value(r->port, n->port);
  gtk_widget_set_valign(GTK_WIDGET(r->port), GTK_ALIGN_CENTER);
  g_signal_connect_swapped(r->port, "value-changed", G_CALLBACK(store), self);
  adw_action_row_add_suffix(port_row, GTK_WIDGET(r->port));
  adw_expander_row_add_row(r->row, GTK_WIDGET(port_row));
  r->test_row = ADW_ACTION_ROW(adw_action_row_new());
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(r->test_row), "Connection");
  adw_action_row_set_subtitle(r->test_row, "Not tested");
  r->test_button = button("_Test", G_CALLBACK(on_test_clicked), r);
  adw_action_row_add_suffix(r->test_row, GTK_WIDGET(r->test_button));
  GtkButton *remove = button("_Remove", G_CALLBACK(on_remove_clicked), r);
  gtk_widget_add_css_class(GTK_WIDGET(remove), "destructive-action");
  adw_action_row_add_suffix(r->test_row, GTK_WIDGET(remove));
  adw_expander_row_add_row(r->row, GTK_WIDGET(r->test_row));
  show_node(r);
  adw_preferences_group_add(self->nodes_group, GTK_WIDGET(r->row));
  return r;
}

static void rebuild(VigilPacsPage *self) {
  if (self->writing)
    return;
  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove(self->nodes_group,
                                 GTK_WIDGET(((NodeRows *)self->rows->pdata[i])->row));
  g_ptr_array_set_size(self->rows, 0);
  g_autoptr(GPtrArray) nodes = vigil_pacs_nodes_read(self->settings);
  for (guint i = 0; i < nodes->len; i++)
    g_ptr_array_add(self->rows, node_rows_new(self, nodes->pdata[i]));
  show_choice(self);
}

static void on_add_clicked(VigilPacsPage *self) {
  VigilPacsNode node = {g_strdup_printf("PACS %u", self->rows->len + 1), "", "",
                        VIGIL_PACS_DEFAULT_PORT};
  NodeRows *r = node_rows_new(self, &node);
  g_free(node.name);
  g_ptr_array_add(self->rows, r);
  adw_expander_row_set_expanded(r->row, TRUE);
  store(self);
}

static void on_chosen(VigilPacsPage *self) {
  guint i = adw_combo_row_get_selected(self->chosen_row);
  if (self->writing || i >= self->rows->len)
    return;
  g_autoptr(VigilPacsNode) n = node_of(self->rows->pdata[i]);
  self->writing = TRUE;
  g_settings_set_string(self->settings, "pacs-node", n->name);
  self->writing = FALSE;
}

GtkWidget *vigil_pacs_page_new(GSettings *settings) {
  VigilPacsPage *self = g_object_new(VIGIL_TYPE_PACS_PAGE, NULL);
  self->settings = g_object_ref(settings);
  rebuild(self);
  g_signal_connect_object(settings, "changed::pacs-nodes", G_CALLBACK(rebuild), self,
                          G_CONNECT_SWAPPED);
  g_signal_connect_object(settings, "changed::pacs-node", G_CALLBACK(rebuild), self,
                          G_CONNECT_SWAPPED);
  g_signal_connect_swapped(self->chosen_row, "notify::selected", G_CALLBACK(on_chosen), self);
  g_settings_bind(settings, "pacs-calling-aet", self->calling_row, "text", G_SETTINGS_BIND_DEFAULT);
  return GTK_WIDGET(self);
}

static void vigil_pacs_page_dispose(GObject *object) {
  VigilPacsPage *self = VIGIL_PACS_PAGE(object);
  g_clear_pointer(&self->rows, g_ptr_array_unref);
  g_clear_object(&self->settings);
  gtk_widget_dispose_template(GTK_WIDGET(self), VIGIL_TYPE_PACS_PAGE);
  G_OBJECT_CLASS(vigil_pacs_page_parent_class)->dispose(object);
}

static void vigil_pacs_page_class_init(VigilPacsPageClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = vigil_pacs_page_dispose;
  gtk_widget_class_set_template_from_resource(widget_class, "/org/vigil/Vigil/vigil-pacs-page.ui");
  gtk_widget_class_bind_template_child(widget_class, VigilPacsPage, nodes_group);
  gtk_widget_class_bind_template_child(widget_class, VigilPacsPage, chosen_row);
  gtk_widget_class_bind_template_child(widget_class, VigilPacsPage, calling_row);
  gtk_widget_class_bind_template_callback(widget_class, on_add_clicked);
}

static void vigil_pacs_page_init(VigilPacsPage *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->rows = g_ptr_array_new_with_free_func(g_free);
}
