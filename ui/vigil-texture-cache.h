/* Windowed slices as drawn, kept per (key, window) so that scrolling back and
 * forth neither re-windows nor re-uploads. Each holds one BGRA buffer
 * (GDK_MEMORY_DEFAULT, cairo's ARGB32 layout) seen two ways: a GdkTexture for
 * GL renderers and a cairo image surface for the cairo renderer, which in
 * GTK 4.8 would otherwise convert a texture through floats on every frame.
 * Plain structs, UI thread only. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct _VigilWindowed VigilWindowed;
/* Takes `bgra`: width * height 32-bit pixels, B G R A in memory. */
VigilWindowed *vigil_windowed_new(GBytes *bgra, int width, int height);
VigilWindowed *vigil_windowed_ref(VigilWindowed *w);
void vigil_windowed_unref(VigilWindowed *w);
GdkTexture *vigil_windowed_texture(VigilWindowed *w);
cairo_surface_t *vigil_windowed_surface(VigilWindowed *w);
int vigil_windowed_width(VigilWindowed *w);
int vigil_windowed_height(VigilWindowed *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilWindowed, vigil_windowed_unref)

typedef struct _VigilTextureCache VigilTextureCache;
VigilTextureCache *vigil_texture_cache_new(gsize max_bytes);
void vigil_texture_cache_free(VigilTextureCache *cache);
void vigil_texture_cache_clear(VigilTextureCache *cache);
/* A new reference, or NULL. A hit becomes the most recently used. */
VigilWindowed *vigil_texture_cache_lookup(VigilTextureCache *cache, gconstpointer key,
                                          double center, double width);
gboolean vigil_texture_cache_contains(VigilTextureCache *cache, gconstpointer key, double center,
                                      double width);
/* Adds a reference to `w` (replacing an entry with the same key and window),
 * dropping the least recently used entries past the byte cap. */
void vigil_texture_cache_insert(VigilTextureCache *cache, gconstpointer key, double center,
                                double width, VigilWindowed *w);
guint vigil_texture_cache_length(VigilTextureCache *cache);

G_END_DECLS
