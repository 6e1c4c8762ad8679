/* Peak resident memory of a stretch of work, not of the whole process.
 *
 * Linux keeps a resident-set high-water mark per process (VmHWM in
 * /proc/self/status). Writing "5" to /proc/self/clear_refs resets it to the current
 * resident size (Linux >= 4.0, Documentation/filesystems/proc.rst), so
 *   qb_peak_rss_reset(); <work>; qb_peak_rss_read(&b)
 * gives the peak during <work> over what was resident when it began. Before the
 * reset, malloc_trim(0) returns freed heap pages to the kernel (glibc), so memory an
 * earlier, bigger piece of work freed does not count as resident. */
#ifndef QB_PEAK_RSS_H
#define QB_PEAK_RSS_H

#include <stdbool.h>
#include <stddef.h>

/* Resets the high-water mark; false when the kernel does not allow it (not Linux,
 * /proc not mounted, or clear_refs not writable). */
bool qb_peak_rss_reset(void);
/* VmHWM in bytes; false when /proc/self/status cannot be read. */
bool qb_peak_rss_read(size_t* bytes);

#endif
