/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * Whole reads and writes on a file descriptor. read(2) and write(2) may
 * move fewer bytes than asked (a pipe, a signal, a socket buffer); every
 * loop that must move all of them is one of these. The contract: 0 (or a
 * count) on success, a negative errno otherwise, never errno left to
 * read. Non-blocking fds are waited on with poll, so EAGAIN never ends a
 * transfer early; EINTR is retried. Async-signal-safe (they allocate
 * nothing), so a child between fork and exec may use them.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds of CLOCK_MONOTONIC (which a stopped or suspended process
 * cannot hold back): the clock of every deadline. */
uint64_t rs_now_ms(void);

/* Milliseconds from now until the absolute deadline end (rs_now_ms), 0
 * when it has passed, capped to INT_MAX for poll(2). */
int rs_ms_left(uint64_t end);

/* Reads exactly n bytes. timeout_ms bounds the whole read (< 0: no bound).
 * Return: 0, -EPIPE at end of file before n bytes, -ETIMEDOUT, or -errno. */
int rs_read_full(int fd, void *buf, size_t n, int timeout_ms);

/* Writes all n bytes. A write that moves nothing is -EIO, so no loop spins.
 * Return: 0 or -errno (-EPIPE: the reader is gone). */
int rs_write_full(int fd, const void *buf, size_t n);

/* Reads until end of file, at most max bytes, into buf (which holds max
 * bytes). timeout_ms bounds the whole read (< 0: no bound). Return: the
 * count, -EFBIG when the file holds more than max bytes, -ETIMEDOUT, or
 * -errno. */
ssize_t rs_read_all(int fd, void *buf, size_t max, int timeout_ms);
