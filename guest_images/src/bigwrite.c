/*
 * bigwrite: writes 1 MiB of a deterministic byte pattern to stdout with
 * write(2) in 64 KiB pieces (retrying short writes and EINTR), then a
 * writev(2) of three buffers, then exits 0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define TOTAL (1u << 20)
#define CHUNK (64u << 10)

static unsigned char data[TOTAL];

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(void)
{
    /* pattern: printable text lines so diffs stay readable */
    for (unsigned i = 0; i < TOTAL; i++) {
        unsigned col = i % 64;
        data[i] = col == 63 ? '\n' : (unsigned char)('!' + ((i / 64) * 7 + col * 3) % 94);
    }

    for (unsigned off = 0; off < TOTAL; off += CHUNK) {
        if (write_all(1, data + off, CHUNK) != 0) {
            fprintf(stderr, "bigwrite: write failed at %u: errno %d\n", off, errno);
            return 1;
        }
    }

    static char a[] = "writev part one\n";
    static char b[] = "writev part two is a little longer\n";
    static char c[] = "writev part three\n";
    struct iovec iov[3] = {
        {a, sizeof a - 1},
        {b, sizeof b - 1},
        {c, sizeof c - 1},
    };
    size_t want = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
    ssize_t n;
    do {
        n = writev(1, iov, 3);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        fprintf(stderr, "bigwrite: writev failed: errno %d\n", errno);
        return 1;
    }
    if ((size_t)n < want) {
        /* finish a short writev with plain writes */
        size_t done = (size_t)n;
        for (int i = 0; i < 3; i++) {
            size_t l = iov[i].iov_len;
            if (done >= l) {
                done -= l;
                continue;
            }
            if (write_all(1, (unsigned char *)iov[i].iov_base + done, l - done) != 0)
                return 1;
            done = 0;
        }
    }
    fprintf(stderr, "bigwrite: wrote %u + %zu bytes\n", TOTAL, want);
    return 0;
}
