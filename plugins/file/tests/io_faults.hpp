#pragma once
// Control of the I/O fault shim (io_faults.cpp) that the file sink's test executable links.
#include <cerrno>

extern "C" {
/** Faults and counts apply to descriptors whose path contains @p path_part ("" or null: none); resets all. */
void io_faults_target(const char* path_part);
/** Targeted writes may write @p bytes more (a write over it is short), then fail with @p error; -1: no limit.
 */
void io_faults_write_budget(long bytes, int error);
/** Targeted fdatasync() calls fail with @p error (0: they succeed). */
void io_faults_fail_fdatasync(int error);
/** fdatasync() calls on targeted descriptors since io_faults_target(). */
long io_faults_fdatasyncs();
}
