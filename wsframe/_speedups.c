/*
 * wsframe._speedups: payload masking (RFC 6455 section 5.3) in C. Optional:
 * setup.py builds it only when asked (WSFRAME_SPEEDUPS=1, or WSFRAME_MYPYC=1
 * with the compiled modules); without it everything runs in Python.
 *
 * Why it exists: the pure-Python methods (integer XOR, translate lanes, see
 * masking.py) and the optional accelerators cost about a microsecond per
 * call on a 1,460-byte TCP read, more than a whole read costs websockets;
 * mypyc cannot reach a buffer's memory, so a typed loop loses (see
 * benchmarks/mypyc_masking.py). Here the payload is XORed 8 bytes at a time,
 * straight into the bytes object that is returned: one pass, no scratch copy.
 *
 * masking.py is the reference and picks this module up as an accelerator;
 * tests/test_masking.py checks every entry point against the RFC's definition
 * at every size and offset. The three functions mirror masking.py's:
 *
 *   apply_mask(data, key, start=0, stop=None) -> bytes   (positional arguments only;
 *                                                          also masking.unmask_buffer)
 *   mask_frame(prefix, payload, key) -> bytes
 *   unmask_append(buffer, data, key, reserve) -> bool
 *   PayloadBuffer(key, length): .append(data), .take() -> bytes, len()
 *   TextBuffer(): .append(data, key, reserve) -> int, .end() -> int, .text() -> str, len()
 *
 * The last one serves text messages arriving in many reads: each piece is
 * unmasked straight onto the end of the message's bytearray and checked for
 * ASCII in the same pass (one pass where Python needs three: unmask, check,
 * append). When the bytearray must grow it grows by half its content (64 KiB
 * at least, the rest of the frame at most), not by CPython's 12.5 % steps,
 * each of which may copy everything received so far. Never by the declared
 * rest of the frame at once: that length is the peer's word, and memory must
 * follow the bytes that arrived (at most 1.5x of them, plus 64 KiB).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* dst[i] = src[i] ^ key[i % 4] for i < n. With `check`, returns 1 if every
 * byte written is ASCII (below 0x80); without, returns 1. Words are loaded
 * and stored with memcpy (no alignment assumed; compilers turn it into plain
 * loads), and the 8-byte key is the 4-byte key twice in memory order, so the
 * result is the same on either byte order. `check` is a constant at each call
 * and the function is inlined, so the loop without it carries no OR (the OR
 * per word measured 40 % slower on 64 KiB and 1 MiB frames). */
static inline int
xor_into(unsigned char *dst, const unsigned char *src, Py_ssize_t n,
         const unsigned char *key, const int check)
{
    unsigned char key8[8];
    uint64_t k, w, high = 0;
    unsigned int tail = 0;
    Py_ssize_t i = 0;

    memcpy(key8, key, 4);
    memcpy(key8 + 4, key, 4);
    memcpy(&k, key8, 8);
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, src + i, 8);
        w ^= k;
        if (check) {
            high |= w;
        }
        memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++) {            /* i is a multiple of 8 here: key[i & 3] lines up */
        dst[i] = src[i] ^ key[i & 3];
        tail |= dst[i];
    }
    return ((high & 0x8080808080808080ULL) | (tail & 0x80)) == 0;
}

/* METH_FASTCALL functions take positional arguments only: check their count. */
static int
check_count(const char *name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max)
{
    if (nargs < min || nargs > max) {
        if (min == max) {
            PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", name, min,
                         nargs);
        } else {
            PyErr_Format(PyExc_TypeError, "%s() takes %zd to %zd arguments (%zd given)", name,
                         min, max, nargs);
        }
        return -1;
    }
    return 0;
}

static int
get_key(PyObject *obj, Py_buffer *key)
{
    if (PyObject_GetBuffer(obj, key, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (key->len != 4) {
        PyErr_Format(PyExc_ValueError, "key must be 4 bytes, got %zd", key->len);
        PyBuffer_Release(key);
        return -1;
    }
    return 0;
}

/* The payload's buffer and the key's, both or neither (on failure, -1 and
 * nothing held). */
static int
get_data_and_key(PyObject *data_obj, PyObject *key_obj, Py_buffer *data, Py_buffer *key)
{
    if (PyObject_GetBuffer(data_obj, data, PyBUF_SIMPLE) < 0) {
        return -1;
    }
    if (get_key(key_obj, key) < 0) {
        PyBuffer_Release(data);
        return -1;
    }
    return 0;
}

static PyObject *
masked(const unsigned char *prefix, Py_ssize_t prefix_len,
       const unsigned char *src, Py_ssize_t n, const unsigned char *key)
{
    PyObject *result = PyBytes_FromStringAndSize(NULL, prefix_len + n);
    if (result == NULL) {
        return NULL;
    }
    unsigned char *out = (unsigned char *)PyBytes_AS_STRING(result);
    if (prefix_len) {
        memcpy(out, prefix, prefix_len);
    }
    (void)xor_into(out + prefix_len, src, n, key, 0);
    return result;
}

PyDoc_STRVAR(apply_mask_doc,
"apply_mask(data, key, start=0, stop=None, /) -> bytes\n\n"
"data[start:stop] XORed with the repeated 4-byte key (RFC 6455 5.3).");

static PyObject *
apply_mask(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *stop_obj = nargs > 3 ? args[3] : Py_None;
    Py_ssize_t start = 0, stop;
    Py_buffer data, key;
    PyObject *result = NULL;

    if (check_count("apply_mask", nargs, 2, 4) < 0) {
        return NULL;
    }
    if (nargs > 2) {
        start = PyNumber_AsSsize_t(args[2], PyExc_OverflowError);
        if (start == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (get_data_and_key(args[0], args[1], &data, &key) < 0) {
        return NULL;
    }
    if (stop_obj == Py_None) {
        stop = data.len;
    } else {
        stop = PyNumber_AsSsize_t(stop_obj, PyExc_OverflowError);
        if (stop == -1 && PyErr_Occurred()) {
            goto done;
        }
    }
    if (start < 0 || stop < start || stop > data.len) {
        PyErr_Format(PyExc_ValueError, "start %zd and stop %zd must lie within the %zd bytes"
                     " of data, in order", start, stop, data.len);
        goto done;
    }
    result = masked(NULL, 0, (const unsigned char *)data.buf + start, stop - start,
                    (const unsigned char *)key.buf);
done:
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return result;
}

PyDoc_STRVAR(mask_frame_doc,
"mask_frame(prefix, payload, key) -> bytes\n\n"
"prefix followed by payload masked with key: a frame, written in one pass.");

static PyObject *
mask_frame(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer prefix, data, key;
    PyObject *result;

    if (check_count("mask_frame", nargs, 3, 3) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &prefix, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (get_data_and_key(args[1], args[2], &data, &key) < 0) {
        PyBuffer_Release(&prefix);
        return NULL;
    }
    result = masked(prefix.buf, prefix.len, data.buf, data.len, key.buf);
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    PyBuffer_Release(&prefix);
    return result;
}

PyDoc_STRVAR(unmask_append_doc,
"unmask_append(buffer, data, key, reserve) -> bool\n\n"
"Append data XORed with key to the bytearray buffer; True if the appended\n"
"bytes are all ASCII. `reserve` is the rest of the frame, this piece included:\n"
"the buffer never grows past it, and by at most half its content at a time.");

static PyObject *
unmask_append(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *buffer_obj;
    Py_ssize_t reserve, size, start, room;
    Py_buffer data, key;
    PyByteArrayObject *buffer;
    int ascii;

    if (check_count("unmask_append", nargs, 4, 4) < 0) {
        return NULL;
    }
    buffer_obj = args[0];
    reserve = PyNumber_AsSsize_t(args[3], PyExc_OverflowError);
    if (reserve == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (!PyByteArray_CheckExact(buffer_obj)) {
        PyErr_Format(PyExc_TypeError, "buffer must be a bytearray, not %.100s",
                     Py_TYPE(buffer_obj)->tp_name);
        return NULL;
    }
    if (get_data_and_key(args[1], args[2], &data, &key) < 0) {
        return NULL;
    }
    if (data.len == 0) {
        /* Nothing to append (and an empty bytearray may have no memory at
         * all: the NUL below would be written through NULL). */
        PyBuffer_Release(&key);
        PyBuffer_Release(&data);
        Py_RETURN_TRUE;
    }
    buffer = (PyByteArrayObject *)buffer_obj;
    size = Py_SIZE(buffer);
    if (reserve < data.len) {
        reserve = data.len;
    }
    /* Bytes allocated past the end of the content (one is kept for the NUL
     * that CPython writes after a bytearray's content). */
    room = buffer->ob_alloc - (buffer->ob_start - buffer->ob_bytes) - size - 1;
    if (buffer->ob_exports > 0) {
        PyErr_SetString(PyExc_BufferError, "buffer is exported: it cannot grow");
        goto error;
    }
    if (room < data.len) {
        /* Grow by half the content (64 KiB at least), never past the rest of
         * the frame nor by less than this piece; the size is set back below,
         * the allocation stays (the next call reads it through ob_alloc). */
        Py_ssize_t grow = size / 2 > 65536 ? size / 2 : 65536;
        if (grow > reserve) {
            grow = reserve;
        }
        if (grow < data.len) {
            grow = data.len;
        }
        if (size > PY_SSIZE_T_MAX - 1 - grow) {
            PyErr_NoMemory();
            goto error;
        }
        if (PyByteArray_Resize(buffer_obj, size + grow) < 0) {
            goto error;
        }
    }
    start = size;
    ascii = xor_into((unsigned char *)buffer->ob_start + start, data.buf, data.len, key.buf, 1);
    Py_SET_SIZE(buffer, start + data.len);
    buffer->ob_start[start + data.len] = '\0';
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return PyBool_FromLong(ascii);
error:
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return NULL;
}

PyDoc_STRVAR(encode_masked_doc,
"encode_masked(first, payload, key) -> bytes\n\n"
"A whole masked frame: the first header byte, the MASK bit and the length\n"
"(RFC 6455 5.2, minimal encoding), the key, the payload masked (5.3).");

static PyObject *
encode_masked(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data, key;
    PyObject *result;
    unsigned char *out;
    long first;
    Py_ssize_t head;

    if (check_count("encode_masked", nargs, 3, 3) < 0) {
        return NULL;
    }
    first = PyLong_AsLong(args[0]);
    if (first == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (first < 0 || first > 255) {
        PyErr_Format(PyExc_ValueError, "first must be a byte (0-255), not %ld", first);
        return NULL;
    }
    if (get_data_and_key(args[1], args[2], &data, &key) < 0) {
        return NULL;
    }
    head = data.len < 126 ? 2 : data.len < 65536 ? 4 : 10;
    result = PyBytes_FromStringAndSize(NULL, head + 4 + data.len);
    if (result != NULL) {
        out = (unsigned char *)PyBytes_AS_STRING(result);
        out[0] = (unsigned char)first;
        if (head == 2) {
            out[1] = (unsigned char)(0x80 | data.len);
        } else if (head == 4) {
            out[1] = 0xFE;
            out[2] = (unsigned char)(data.len >> 8);
            out[3] = (unsigned char)data.len;
        } else {
            unsigned long long n = (unsigned long long)data.len;
            out[1] = 0xFF;
            for (int i = 0; i < 8; i++) {
                out[2 + i] = (unsigned char)(n >> (56 - 8 * i));
            }
        }
        memcpy(out + head, key.buf, 4);
        (void)xor_into(out + head + 4, data.buf, data.len, key.buf, 0);
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return result;
}

/* PayloadBuffer: a frame's payload, unmasked as its reads arrive straight into
 * the bytes object that `take` hands up. One pass over each byte, where
 * keeping the masked reads and unmasking them at the end takes three (the
 * copy in, the bytearray's growth, the unmasking into a new object).
 *
 * The bytes object is private to this buffer (its only reference) until
 * `take` returns it, so writing into it and resizing it (_PyBytes_Resize)
 * is safe: nothing else can see it change. It grows with the bytes
 * received, never by the peer's word alone (see payload_append). */
typedef struct {
    PyObject_HEAD
    PyObject *bytes;        /* NULL until the first append; capacity = its size */
    Py_ssize_t used;        /* bytes written */
    Py_ssize_t length;      /* the declared payload length: the most it may hold */
    int masked;
    unsigned char key[4];
} PayloadBuffer;

static void
payload_dealloc(PayloadBuffer *self)
{
    Py_XDECREF(self->bytes);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
payload_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *names[] = {"key", "length", NULL};
    PyObject *key_obj;
    Py_ssize_t length;
    Py_buffer key;
    PayloadBuffer *self;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "On:PayloadBuffer", names, &key_obj,
                                     &length)) {
        return NULL;
    }
    if (length < 0) {
        PyErr_Format(PyExc_ValueError, "length must be >= 0, not %zd", length);
        return NULL;
    }
    self = (PayloadBuffer *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->bytes = NULL;
    self->used = 0;
    self->length = length;
    self->masked = key_obj != Py_None;
    if (self->masked) {
        if (get_key(key_obj, &key) < 0) {
            Py_DECREF(self);
            return NULL;
        }
        memcpy(self->key, key.buf, 4);
        PyBuffer_Release(&key);
    }
    return (PyObject *)self;
}

PyDoc_STRVAR(payload_append_doc,
"append(data, /) -> None\n\n"
"The next bytes of the payload, unmasked onto its end (the declared length\n"
"is the most the buffer holds: more is a ValueError).");

static PyObject *
payload_append(PayloadBuffer *self, PyObject *data_obj)
{
    Py_buffer data;
    Py_ssize_t need, capacity;
    unsigned char *out;

    if (PyObject_GetBuffer(data_obj, &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (data.len > self->length - self->used) {
        PyErr_Format(PyExc_ValueError, "data of %zd bytes goes past the declared length"
                     " (%zd of %zd bytes held)", data.len, self->used, self->length);
        goto error;
    }
    need = self->used + data.len;
    capacity = self->bytes == NULL ? 0 : PyBytes_GET_SIZE(self->bytes);
    if (need > capacity) {
        /* To four times the bytes held with this piece (64 KiB at least),
         * never past the declared length: memory follows the bytes received
         * (at most 4x of them, or 64 KiB), and a 1 MiB payload arriving in
         * 16-64 KiB reads is resized two or three times, not five (each
         * resize may copy everything held so far). */
        Py_ssize_t grow = need > PY_SSIZE_T_MAX / 4 ? PY_SSIZE_T_MAX : 4 * need;
        if (grow < 65536) {
            grow = 65536;
        }
        if (grow > self->length) {
            grow = self->length;
        }
        if (self->bytes == NULL) {
            self->bytes = PyBytes_FromStringAndSize(NULL, grow);
            if (self->bytes == NULL) {
                goto error;
            }
        } else if (_PyBytes_Resize(&self->bytes, grow) < 0) {
            self->bytes = NULL;             /* freed by _PyBytes_Resize */
            self->used = 0;
            goto error;
        }
    }
    out = (unsigned char *)PyBytes_AS_STRING(self->bytes) + self->used;
    if (self->masked) {
        /* The key lined up with this piece's first byte. */
        unsigned char key[4];
        for (int i = 0; i < 4; i++) {
            key[i] = self->key[(self->used + i) & 3];
        }
        (void)xor_into(out, data.buf, data.len, key, 0);
    } else if (data.len) {
        memcpy(out, data.buf, data.len);
    }
    self->used = need;
    PyBuffer_Release(&data);
    Py_RETURN_NONE;
error:
    PyBuffer_Release(&data);
    return NULL;
}

PyDoc_STRVAR(payload_take_doc,
"take() -> bytes\n\n"
"The payload so far, unmasked; the buffer is empty afterwards.");

static PyObject *
payload_take(PayloadBuffer *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = self->bytes;

    if (result == NULL) {
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    self->bytes = NULL;
    if (PyBytes_GET_SIZE(result) != self->used && _PyBytes_Resize(&result, self->used) < 0) {
        self->used = 0;
        return NULL;
    }
    self->used = 0;
    return result;
}

static Py_ssize_t
payload_len(PayloadBuffer *self)
{
    return self->used;
}

static PyMethodDef payload_methods[] = {
    {"append", (PyCFunction)payload_append, METH_O, payload_append_doc},
    {"take", (PyCFunction)payload_take, METH_NOARGS, payload_take_doc},
    {NULL, NULL, 0, NULL}
};

static PySequenceMethods payload_as_sequence = {
    .sq_length = (lenfunc)payload_len,
};

PyDoc_STRVAR(payload_doc,
"PayloadBuffer(key, length)\n\n"
"A frame's payload of the declared `length`, received in pieces and unmasked\n"
"with `key` (4 bytes, or None for plain bytes) into the bytes object that\n"
"take() returns. len() is the bytes held so far.");

static PyTypeObject PayloadBufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wsframe._speedups.PayloadBuffer",
    .tp_basicsize = sizeof(PayloadBuffer),
    .tp_dealloc = (destructor)payload_dealloc,
    .tp_as_sequence = &payload_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = payload_doc,
    .tp_methods = payload_methods,
    .tp_new = payload_new,
};

/* TextBuffer: one text message, piece by piece (text.py has the contract and
 * the pure-Python reference). RFC 6455 8.1: the message must be UTF-8, and
 * a receiver fails as soon as the bytes so far cannot be (fail fast). Here
 * the check and the decoding are one loop, fused with the unmasking: each
 * piece is unmasked 8 KiB at a time into a block on the stack (hot in the
 * CPU's cache) and decoded from it, character by character after Unicode
 * Table 3-7 (a two-byte or Latin-1 str on x86-64: 64 bytes at a time
 * first, see utf8_windows), straight into the str that text() hands up. No str
 * per piece, no join at the end, no pass over the message of its own;
 * ASCII runs are copied 8 or 16 bytes at a time.
 *
 * The str is private to this buffer (its only reference) until text()
 * returns it, so writing into it and resizing it (PyUnicode_Resize) is
 * safe. It starts as ASCII and is made wider (Latin-1, UCS-2, UCS-4) when a
 * character needs it, so its kind is always the smallest that holds it, as
 * CPython requires of a str. It grows by half (4,096 characters at least):
 * memory follows the characters received. The bytes of a character cut by
 * the end of a piece are held (at most 3) and decoded with the next piece;
 * they are checked as they arrive, so an impossible prefix (ED A0, a
 * surrogate's start) fails at its last byte. A position reported is that of
 * the first byte of the sequence that cannot be UTF-8, as CPython's decoder
 * reports it for the whole message. */

#define TEXT_BLOCK 8192

typedef struct {
    PyObject_HEAD
    PyObject *text;         /* the str being written, or NULL */
    Py_ssize_t chars;       /* characters written */
    Py_ssize_t capacity;    /* its length */
    Py_UCS4 limit;          /* the largest character its kind holds: 127, 255, 65535, 1114111 */
    Py_ssize_t received;    /* bytes received */
    int nheld;              /* bytes of an incomplete last character */
    unsigned char held[4];
} TextBuffer;

static void
text_dealloc(TextBuffer *self)
{
    Py_XDECREF(self->text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
text_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    TextBuffer *self;

    if (PyTuple_GET_SIZE(args) != 0 || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "TextBuffer() takes no arguments");
        return NULL;
    }
    self = (TextBuffer *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->text = NULL;
        self->chars = self->capacity = self->received = 0;
        self->limit = 127;
        self->nheld = 0;
    }
    return (PyObject *)self;
}

/* A new str of `capacity` characters of the kind that holds `limit`, the
 * characters written so far copied (widened) into it. */
static int
text_widen(TextBuffer *self, Py_UCS4 limit, Py_ssize_t capacity)
{
    PyObject *wider = PyUnicode_New(capacity, limit);
    Py_ssize_t n = self->chars;

    if (wider == NULL) {
        return -1;
    }
    if (self->text != NULL && n) {
        int from = PyUnicode_KIND(self->text), to = PyUnicode_KIND(wider);
        const void *src = PyUnicode_DATA(self->text);
        void *dst = PyUnicode_DATA(wider);
        if (from == to) {
            memcpy(dst, src, (size_t)n * from);
        } else {
            for (Py_ssize_t k = 0; k < n; k++) {
                PyUnicode_WRITE(to, dst, k, PyUnicode_READ(from, src, k));
            }
        }
    }
    Py_XDECREF(self->text);
    self->text = wider;
    self->capacity = capacity;
    self->limit = limit;
    return 0;
}

/* Room for `n` more characters. */
static int
text_room(TextBuffer *self, Py_ssize_t n)
{
    Py_ssize_t need = self->chars + n, capacity;

    if (need <= self->capacity) {
        return 0;
    }
    capacity = self->capacity + self->capacity / 2;
    if (capacity < need) {
        capacity = need;
    }
    if (capacity < 4096) {
        capacity = 4096;
    }
    if (self->text == NULL) {
        return text_widen(self, self->limit, capacity);
    }
    if (PyUnicode_Resize(&self->text, capacity) < 0) {
        self->text = NULL;
        return -1;
    }
    self->capacity = capacity;
    return 0;
}

enum { RUN_END, RUN_WIDER, RUN_BAD, RUN_SHORT };

/* Decode s[*at:n] into `out` (characters of TYPE, from index *written) until
 * the end (RUN_END), a character above `limit` (RUN_WIDER, *wide set, not
 * consumed), a sequence that cannot be UTF-8 (RUN_BAD, *at on its first
 * byte) or one that the end cuts short, well formed so far (RUN_SHORT, *at
 * on its first byte). Table 3-7: C2-DF take 80-BF; E0 A0-BF, E1-EC and
 * EE-EF 80-BF, ED 80-9F (no surrogates), then 80-BF; F0 90-BF, F1-F3 80-BF,
 * F4 80-8F (nothing above U+10FFFF), then 80-BF twice; 80-C1 and F5-FF
 * begin nothing. */
/* Each sequence length written out (no loop over continuation bytes: that
 * one measured 1.4x this one's time), and while four bytes are at hand a
 * fast path without bound checks (4-8% less time than the checked path
 * alone). Alone, this loop takes 1.0-1.2x the time of CPython's decoder
 * alone on 1 MiB of the benchmark's text that is not ASCII (repeated, or
 * its words in random order); it needs no str per piece, no join at the
 * end and no pass of its own for the unmasking, and memory that no tiny
 * piece can inflate. A two-byte or Latin-1 str on x86-64 goes to
 * utf8_windows first, which leaves this loop one character at a time: an error, a
 * character a block may not hold, the last 12 bytes. */
#define CONT(d) (((d) ^ 0x80) < 0x40)
/* The character of a 2-, 3- or 4-byte sequence (checked before). */
#define CP2(c, d) ((((Py_UCS4)(c) & 0x1F) << 6) | ((d) & 0x3F))
#define CP3(c, d, e) ((((Py_UCS4)(c) & 0x0F) << 12) | (((d) & 0x3F) << 6) | ((e) & 0x3F))
#define CP4(c, d, e, f) ((((Py_UCS4)(c) & 0x07) << 18) | (((d) & 0x3F) << 12)               \
                         | (((e) & 0x3F) << 6) | ((f) & 0x3F))

/* Table 3-7 by lead byte, the one statement of it in C (filled in by
 * utf8_tables_init): the length of the sequence it begins (0: none), and
 * the range of its second byte as a low bound and a span (second - low must
 * be <= span, unsigned). Every later byte is 80-BF. */
static unsigned char UTF8_SIZE[256];
static unsigned short UTF8_LOW[256], UTF8_SPAN[256];

static void
utf8_tables_init(void)
{
    for (unsigned int c = 0; c < 256; c++) {
        unsigned int size = 0, low = 0x80, high = 0xBF;
        if (c < 0x80) {
            size = 1;
        } else if (c >= 0xC2 && c <= 0xDF) {
            size = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            size = 3;
            low = c == 0xE0 ? 0xA0 : 0x80;      /* no overlongs */
            high = c == 0xED ? 0x9F : 0xBF;     /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            size = 4;
            low = c == 0xF0 ? 0x90 : 0x80;      /* no overlongs */
            high = c == 0xF4 ? 0x8F : 0xBF;     /* nothing above U+10FFFF */
        }
        UTF8_SIZE[c] = (unsigned char)size;
        /* A byte that begins nothing: a low bound no byte reaches. */
        UTF8_LOW[c] = (unsigned short)(size >= 2 ? low : 0x100);
        UTF8_SPAN[c] = (unsigned short)(high - low);
    }
}

/* Text that is not ASCII, 64 bytes at a time (x86-64 with SSE4.1, checked
 * when the module loads; elsewhere the loop below does it all). Only for a
 * UCS-2 str, the kind that a text of accents, symbols, Greek or CJK is kept
 * in, and a Latin-1 str (accented Latin only), whose blocks also fail at a
 * character above U+00FF. A TextBuffer given 1 MiB of such text (the benchmark's words in
 * random order) at once takes a fifth of the time of CPython's decoder on
 * it, and of the same TextBuffer with the loop alone; on the benchmark's
 * 70-byte text repeated, whose every branch the CPU learns, 0.8x the time
 * with the loop alone and about that of CPython's decoder.
 *
 * A block of 64 bytes is checked at once, against Table 3-7, as bit masks
 * of its bytes: each lead byte C2-DF must be followed by one continuation
 * byte (80-BF) and each E0-EF by two, and no other byte may be a
 * continuation; no byte is C0, C1 or F0-FF (a four-byte character goes to
 * the loop: a UCS-2 str cannot hold it); E0 is not followed by 80-9F nor ED
 * by A0-BF. A block that fails (an error, or a character this path leaves
 * alone) goes to the loop, which finds and places every error itself.
 *
 * A checked block is then decoded window by window. The continuation bytes
 * of a window of 12 bytes say where its characters end (12 bits), and a
 * table built when the module loads gives, for each of the 4,096 ways,
 * how many whole characters of one to three bytes begin it (at most 8),
 * their bytes, and one byte shuffle that puts each character in a 32-bit
 * lane, its lead byte highest; masks and shifts make the characters, which
 * are narrowed to 16 bits and stored. What one window waits on before the
 * next can start is a shift and a table load; the block's bit masks are
 * found before its windows begin. 8 or 16 ASCII bytes are widened at once. */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define UTF8_WINDOWS 1
#include <immintrin.h>

/* text_decode's bytes are followed by this many readable bytes (zeros):
 * a block's loads may reach past the end, never its windows. */
#define UTF8_PAD 64

/* By the 12 end bits of a window (bit k: byte k ends a character): the
 * bytes its whole characters take (0: none, the first is longer than 3
 * bytes or not complete), the number of characters << 8, and the shuffle
 * that puts character j in 32-bit lane j (lanes 0-3, then 4-7). */
static unsigned short UTF8_WINDOW[4096];
static unsigned char UTF8_SHUFFLE[4096][32];
static int utf8_windows_on;

static void
utf8_windows_init(void)
{
    __builtin_cpu_init();
    utf8_windows_on = __builtin_cpu_supports("sse4.1");
    for (unsigned int ends = 0; ends < 4096; ends++) {
        unsigned int count = 0, start = 0;
        unsigned char *shuffle = UTF8_SHUFFLE[ends];
        memset(shuffle, 0x80, 32);              /* 0x80: a zero byte */
        for (unsigned int k = 0; k < 12 && count < 8; k++) {
            if (ends >> k & 1) {
                unsigned int size = k + 1 - start;
                if (size > 3) {
                    break;
                }
                /* The character's last byte lowest, its lead highest. */
                for (unsigned int b = 0; b < size; b++) {
                    shuffle[count * 4 + b] = (unsigned char)(start + size - 1 - b);
                }
                count++;
                start = k + 1;
            }
        }
        UTF8_WINDOW[ends] = (unsigned short)(start | count << 8);
    }
}

/* The characters of 32-bit lanes lead << 16 | middle << 8 | last (checked:
 * the bits of a lead byte below its length's marker, 6 of each other). */
__attribute__((target("sse4.1"), always_inline))
static inline __m128i
utf8_lanes(__m128i r)
{
    return _mm_or_si128(
        _mm_or_si128(_mm_and_si128(r, _mm_set1_epi32(0x7F)),
                     _mm_srli_epi32(_mm_and_si128(r, _mm_set1_epi32(0x3F00)), 2)),
        _mm_srli_epi32(_mm_and_si128(r, _mm_set1_epi32(0x0F0000)), 4));
}

/* Bit k: byte k of x is a continuation byte (80-BF, the signed bytes below
 * -64), is not ASCII, is E0-FF. */
#define UTF8_CONT16(x) ((uint64_t)(unsigned int)_mm_movemask_epi8(                      \
    _mm_cmplt_epi8((x), _mm_set1_epi8((char)0xC0))))
#define UTF8_HIGH16(x) ((uint64_t)(unsigned int)_mm_movemask_epi8(x))
#define UTF8_E0_16(x) ((uint64_t)(unsigned int)_mm_movemask_epi8(                        \
    _mm_cmpeq_epi8(_mm_max_epu8((x), _mm_set1_epi8((char)0xE0)), (x))))

/* Bit k: byte k of x is C0, C1 or F0-FF (with `narrow`, C4-FF: the leads
 * of characters above U+00FF), or follows E0 (prev: the bytes before x's)
 * and is 80-9F (an overlong form), or follows ED and is A0-FF (a surrogate;
 * ED then ASCII is an error too, found by the lengths). */
__attribute__((target("sse4.1"), always_inline))
static inline uint64_t
utf8_refused16(__m128i x, __m128i prev, const int narrow)
{
    __m128i c0c1 = _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8((char)0xFE)),
                                  _mm_set1_epi8((char)0xC0));
    __m128i f0 = _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8((char)(narrow ? 0xC4 : 0xF0))),
                                x);
    __m128i e0 = _mm_and_si128(_mm_cmpeq_epi8(prev, _mm_set1_epi8((char)0xE0)),
                               _mm_cmplt_epi8(x, _mm_set1_epi8((char)0xA0)));
    __m128i ed = _mm_and_si128(_mm_cmpeq_epi8(prev, _mm_set1_epi8((char)0xED)),
                               _mm_cmpgt_epi8(x, _mm_set1_epi8((char)0x9F)));
    return (uint64_t)(unsigned int)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(c0c1, f0), _mm_or_si128(e0, ed)));
}

/* Decode checked blocks of s[0:n] (followed by UTF8_PAD zeros) into out:
 * the bytes used, all of them whole characters; *made: the characters
 * written. Stops at a block that fails its check, at a window it has no
 * shape for, or with 12 bytes or fewer left; the loop goes on from there.
 * out has room for n characters (at most one per byte; a store of 8 or 16
 * characters happens with at least as many bytes left). `narrow`: out is a
 * one-byte str (Latin-1), and a block with a character above U+00FF fails
 * (the loop makes the str wider). */
__attribute__((target("sse4.1"), always_inline))
static inline Py_ssize_t
utf8_windows(const unsigned char *s, Py_ssize_t n, void *chars, Py_ssize_t *made,
             const int narrow)
{
    const __m128i zero = _mm_setzero_si128();
    Py_UCS1 *out1 = (Py_UCS1 *)chars;
    Py_UCS2 *out2 = (Py_UCS2 *)chars;
    Py_ssize_t i = 0, o = 0;

    while (n - i > 12) {
        __m128i x0 = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i x1 = _mm_loadu_si128((const __m128i *)(s + i + 16));
        __m128i x2 = _mm_loadu_si128((const __m128i *)(s + i + 32));
        __m128i x3 = _mm_loadu_si128((const __m128i *)(s + i + 48));
        uint64_t cont = UTF8_CONT16(x0) | UTF8_CONT16(x1) << 16 | UTF8_CONT16(x2) << 32
                        | UTF8_CONT16(x3) << 48;
        uint64_t high = UTF8_HIGH16(x0) | UTF8_HIGH16(x1) << 16 | UTF8_HIGH16(x2) << 32
                        | UTF8_HIGH16(x3) << 48;
        uint64_t three = UTF8_E0_16(x0) | UTF8_E0_16(x1) << 16 | UTF8_E0_16(x2) << 32
                         | UTF8_E0_16(x3) << 48;
        /* (The block begins a character: no byte before it is a lead.) */
        uint64_t refused = utf8_refused16(x0, _mm_slli_si128(x0, 1), narrow)
                           | utf8_refused16(x1, _mm_alignr_epi8(x1, x0, 15), narrow) << 16
                           | utf8_refused16(x2, _mm_alignr_epi8(x2, x1, 15), narrow) << 32
                           | utf8_refused16(x3, _mm_alignr_epi8(x3, x2, 15), narrow) << 48;
        /* The continuation bytes the leads ask for must be the continuation
         * bytes there are: in all 64 bytes, or in those before n (a
         * character that n cuts asks for bytes after it, which are not
         * checked: the loop holds it). Every byte a window decodes, and the
         * one after it, which says whether the window's last character ends
         * there, is among them. */
        uint64_t leads = high & ~cont;
        Py_ssize_t left = n - i;
        uint64_t reach = left >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << left) - 1;
        unsigned int pos = 0;
        if ((refused | (cont ^ (leads << 1 | three << 2))) & reach) {
            break;
        }
        /* Windows starting at 0-48 and ending before n: their bytes and
         * their end bits (the next byte's) lie in the block. */
        while (pos <= 48 && left - pos > 12) {
            unsigned int ends, entry;
            __m128i x = _mm_loadu_si128((const __m128i *)(s + i + pos)), a, b;
            if ((high >> pos & 0xFF) == 0) {
                /* 8 or 16 ASCII bytes: copied (widened) as they are. */
                if ((high >> pos & 0xFFFF) == 0 && left - pos >= 16) {
                    if (narrow) {
                        _mm_storeu_si128((__m128i *)(out1 + o), x);
                    } else {
                        _mm_storeu_si128((__m128i *)(out2 + o), _mm_unpacklo_epi8(x, zero));
                        _mm_storeu_si128((__m128i *)(out2 + o + 8), _mm_unpackhi_epi8(x, zero));
                    }
                    pos += 16;
                    o += 16;
                } else {
                    if (narrow) {
                        _mm_storel_epi64((__m128i *)(out1 + o), x);
                    } else {
                        _mm_storeu_si128((__m128i *)(out2 + o), _mm_unpacklo_epi8(x, zero));
                    }
                    pos += 8;
                    o += 8;
                }
                continue;
            }
            ends = (unsigned int)(~cont >> (pos + 1)) & 0xFFF;
            entry = UTF8_WINDOW[ends];
            if ((entry & 0xFF) == 0) {
                *made = o;
                return i + pos;
            }
            a = _mm_shuffle_epi8(x, _mm_loadu_si128((const __m128i *)UTF8_SHUFFLE[ends]));
            b = _mm_shuffle_epi8(x, _mm_loadu_si128((const __m128i *)(UTF8_SHUFFLE[ends] + 16)));
            a = _mm_packus_epi32(utf8_lanes(a), utf8_lanes(b));
            if (narrow) {
                _mm_storel_epi64((__m128i *)(out1 + o), _mm_packus_epi16(a, a));
            } else {
                _mm_storeu_si128((__m128i *)(out2 + o), a);
            }
            o += entry >> 8;
            pos += entry & 0xFF;
        }
        i += pos;
        if (pos <= 48) {
            break;              /* 12 bytes or fewer left */
        }
    }
    *made = o;
    return i;
}

/* utf8_windows into a two-byte str, and into a one-byte (Latin-1) str. */
__attribute__((target("sse4.1")))
static Py_ssize_t
utf8_windows_ucs2(const unsigned char *s, Py_ssize_t n, void *chars, Py_ssize_t *made)
{
    return utf8_windows(s, n, chars, made, 0);
}

__attribute__((target("sse4.1")))
static Py_ssize_t
utf8_windows_ucs1(const unsigned char *s, Py_ssize_t n, void *chars, Py_ssize_t *made)
{
    return utf8_windows(s, n, chars, made, 1);
}
#else
#define UTF8_WINDOWS 0
#define UTF8_PAD 0
static const int utf8_windows_on = 0;
static void utf8_windows_init(void) {}
static Py_ssize_t
utf8_windows_ucs2(const unsigned char *s, Py_ssize_t n, void *chars, Py_ssize_t *made)
{
    (void)s, (void)n, (void)chars;
    *made = 0;
    return 0;
}
#define utf8_windows_ucs1 utf8_windows_ucs2
#endif

#define DECODE_RUN(NAME, TYPE)                                                          \
static int                                                                              \
NAME(const unsigned char *s, Py_ssize_t n, Py_ssize_t *at, TYPE *out,                   \
     Py_ssize_t *written, Py_UCS4 limit, Py_UCS4 *wide)                                 \
{                                                                                       \
    Py_ssize_t i = *at, o = *written;                                                   \
    int status = RUN_END;                                                               \
    while (i < n) {                                                                     \
        unsigned int c;                                                                 \
        Py_UCS4 cp;                                                                     \
        int size;                                                                       \
        if (UTF8_WINDOWS && n - i > 12 && utf8_windows_on                               \
                && (sizeof(TYPE) == 2 || (sizeof(TYPE) == 1 && limit == 255))) {        \
            /* A two-byte or Latin-1 str: checked blocks of 64 bytes first  \
             * (utf8_windows); what they leave, one character, is this      \
             * loop's. */                                                     \
            Py_ssize_t made;                                                            \
            i += (sizeof(TYPE) == 2 ? utf8_windows_ucs2 : utf8_windows_ucs1)(           \
                s + i, n - i, (void *)(out + o), &made);                                \
            o += made;                                                                  \
            if (i == n) {                                                               \
                break;                                                                  \
            }                                                                           \
        }                                                                               \
        c = s[i];                                                                       \
        if (c < 0x80) {                                                                 \
            /* ASCII: 8 bytes at a time while whole aligned words are ASCII  \
             * (long runs; tried only at an aligned byte, 1 in 8 of the short  \
             * runs between other characters), else one byte. */              \
            if ((((uintptr_t)(s + i)) & 7) == 0) {                                      \
                for (; i + 8 <= n; i += 8, o += 8) {                                    \
                    uint64_t w;                                                         \
                    memcpy(&w, s + i, 8);                                               \
                    if (w & 0x8080808080808080ULL) {                                    \
                        break;                                                          \
                    }                                                                   \
                    for (int k = 0; k < 8; k++) {                                       \
                        out[o + k] = (TYPE)s[i + k];                                    \
                    }                                                                   \
                }                                                                       \
                if (i == n || s[i] >= 0x80) {                                           \
                    continue;                                                           \
                }                                                                       \
            }                                                                           \
            out[o++] = (TYPE)s[i++];                                                    \
            continue;                                                                   \
        }                                                                               \
        if (i + 4 <= n) {                                                               \
            /* Fast path (four bytes at hand): no bound checks, the        \
             * continuation bytes read unconditionally, the lead byte's    \
             * row of the tables for the second byte's range. Branches on  \
             * the length, not conditional moves: a branch-free version    \
             * (the length from the table) measured 1.7x this one's time,  \
             * the next position then waiting on two loads. Every          \
             * rejection is at the lead byte (i), as CPython reports. */   \
            unsigned int d = s[i + 1];                                                  \
            if ((unsigned int)(d - UTF8_LOW[c]) > UTF8_SPAN[c]) {                       \
                status = RUN_BAD;       /* also a lead byte that begins nothing */      \
                break;                                                                  \
            }                                                                           \
            if (c < 0xE0) {                                                             \
                cp = CP2(c, d);                                                         \
                size = 2;                                                               \
            } else {                                                                    \
                unsigned int e = s[i + 2];                                              \
                if (!CONT(e)) {                                                         \
                    status = RUN_BAD;                                                   \
                    break;                                                              \
                }                                                                       \
                if (c < 0xF0) {                                                         \
                    cp = CP3(c, d, e);                                                  \
                    size = 3;                                                           \
                } else {                                                                \
                    unsigned int f = s[i + 3];                                          \
                    if (!CONT(f)) {                                                     \
                        status = RUN_BAD;                                               \
                        break;                                                          \
                    }                                                                   \
                    cp = CP4(c, d, e, f);                                               \
                    size = 4;                                                           \
                }                                                                       \
            }                                                                           \
        } else {                                                                        \
            /* The run's last 1-3 bytes: the same tables, and a sequence the            \
             * end cuts short, well formed so far, is RUN_SHORT (a 4-byte               \
             * one always is here). */                                                  \
            unsigned int length = UTF8_SIZE[c];                                         \
            Py_ssize_t left = n - i;                                                    \
            if (length == 0                              /* begins nothing */           \
                    || (left > 1 && (unsigned int)(s[i + 1] - UTF8_LOW[c]) > UTF8_SPAN[c])\
                    || (left > 2 && length >= 3 && !CONT(s[i + 2]))) {                  \
                status = RUN_BAD;                                                       \
                break;                                                                  \
            }                                                                           \
            if (left < (Py_ssize_t)length) {                                            \
                status = RUN_SHORT;                                                     \
                break;                                                                  \
            }                                                                           \
            cp = length == 2 ? CP2(c, s[i + 1]) : CP3(c, s[i + 1], s[i + 2]);           \
            size = (int)length;                                                         \
        }                                                                               \
        /* (Only a one-byte str can be too narrow for a 2- or 3-byte sequence: \
         * the test is a constant for the other kinds.) */                      \
        if ((sizeof(TYPE) == 1 || size == 4) && cp > limit) {                         \
            *wide = cp;                                                                 \
            status = RUN_WIDER;                                                         \
            break;                                                                      \
        }                                                                               \
        out[o++] = (TYPE)cp;                                                            \
        i += size;                                                                      \
    }                                                                                   \
    *at = i;                                                                            \
    *written = o;                                                                       \
    return status;                                                                      \
}

DECODE_RUN(decode_ucs1, Py_UCS1)
DECODE_RUN(decode_ucs2, Py_UCS2)
DECODE_RUN(decode_ucs4, Py_UCS4)

/* Decode s[0:n] (the held bytes, then unmasked bytes of the piece), whose
 * first byte is byte `base` of the message. -1, the message position of a
 * sequence that cannot be UTF-8, or -2 with an error set. A sequence cut
 * short by the end is held. s[n:n + UTF8_PAD] must be readable zeros. */
static Py_ssize_t
text_decode(TextBuffer *self, const unsigned char *s, Py_ssize_t n, Py_ssize_t base)
{
    Py_ssize_t at = 0;
    Py_UCS4 wide = 0;
    int status;

    if (text_room(self, n) < 0) {       /* at most one character per byte */
        return -2;
    }
    for (;;) {
        void *data = PyUnicode_DATA(self->text);
        switch (PyUnicode_KIND(self->text)) {
        case PyUnicode_1BYTE_KIND:
            status = decode_ucs1(s, n, &at, data, &self->chars, self->limit, &wide);
            break;
        case PyUnicode_2BYTE_KIND:
            status = decode_ucs2(s, n, &at, data, &self->chars, self->limit, &wide);
            break;
        default:
            status = decode_ucs4(s, n, &at, data, &self->chars, self->limit, &wide);
            break;
        }
        if (status != RUN_WIDER) {
            break;
        }
        if (text_widen(self, wide < 256 ? 255 : wide < 65536 ? 65535 : 1114111,
                       self->capacity) < 0) {
            return -2;
        }
    }
    if (status == RUN_BAD) {
        return base + at;
    }
    self->nheld = (int)(n - at);        /* RUN_SHORT: 1-3 bytes; RUN_END: 0 */
    if (self->nheld) {
        memcpy(self->held, s + at, self->nheld);
    }
    return -1;
}

PyDoc_STRVAR(text_append_doc,
"append(data, key, reserve, /) -> int\n\n"
"The next piece, masked with key (4 bytes lined up with its first byte, or\n"
"None); reserve (the rest of its frame) is a hint this type does not need.\n"
"-1, or the message position of a byte that cannot be UTF-8.");

static PyObject *
text_append(TextBuffer *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data, key;
    Py_ssize_t reserve, bad = -1;
    int masked;
    unsigned char block[TEXT_BLOCK + 4 + UTF8_PAD];
    const unsigned char *zero = (const unsigned char *)"\0\0\0\0";

    if (check_count("append", nargs, 3, 3) < 0) {
        return NULL;
    }
    reserve = PyNumber_AsSsize_t(args[2], PyExc_OverflowError);
    if (reserve == -1 && PyErr_Occurred()) {
        return NULL;
    }
    masked = args[1] != Py_None;
    if (masked) {
        if (get_data_and_key(args[0], args[1], &data, &key) < 0) {
            return NULL;
        }
    } else if (PyObject_GetBuffer(args[0], &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    /* Block by block: the held bytes, then up to TEXT_BLOCK bytes unmasked
     * (a block is a multiple of 4 bytes: the key stays lined up). */
    for (Py_ssize_t pos = 0; pos < data.len && bad == -1; pos += TEXT_BLOCK) {
        Py_ssize_t size = data.len - pos < TEXT_BLOCK ? data.len - pos : TEXT_BLOCK;
        const unsigned char *src = (const unsigned char *)data.buf + pos;
        const unsigned char *k = masked ? (const unsigned char *)key.buf : zero;
        int nheld = self->nheld;
        if (nheld == 0 && self->limit < 256) {
            /* Fast path (ASCII): a one-byte str takes the block unmasked
             * straight into its characters, in one pass with the ASCII
             * verdict; only a block that is not all ASCII goes through the
             * decoder (from a copy: the str may have to be made wider). */
            unsigned char *chars;
            if (text_room(self, size) < 0) {
                bad = -2;
                break;
            }
            chars = (unsigned char *)PyUnicode_DATA(self->text) + self->chars;
            if (xor_into(chars, src, size, k, 1)) {
                self->chars += size;
                self->received += size;
                continue;
            }
            memcpy(block, chars, size);
        } else {
            memcpy(block, self->held, nheld);
            (void)xor_into(block + nheld, src, size, k, 0);
        }
        memset(block + nheld + size, 0, UTF8_PAD);     /* (see utf8_windows) */
        bad = text_decode(self, block, nheld + size, self->received - nheld);
        self->received += size;
    }
    if (masked) {
        PyBuffer_Release(&key);
    }
    PyBuffer_Release(&data);
    if (bad == -2) {
        return NULL;
    }
    return PyLong_FromSsize_t(bad);
}

PyDoc_STRVAR(text_end_doc,
"end() -> int\n\n"
"-1 if the text so far ends on a character boundary, else the message\n"
"position where its incomplete last character starts.");

static PyObject *
text_end(TextBuffer *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromSsize_t(self->nheld ? self->received - self->nheld : -1);
}

PyDoc_STRVAR(text_text_doc,
"text() -> str\n\n"
"The whole text (after end() said it is complete); the buffer is empty\n"
"afterwards.");

static PyObject *
text_text(TextBuffer *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = self->text;

    if (self->nheld) {
        PyErr_SetString(PyExc_ValueError, "the text ends inside a character");
        return NULL;
    }
    self->text = NULL;
    self->capacity = 0;
    self->limit = 127;
    if (result == NULL) {
        self->chars = 0;
        return PyUnicode_New(0, 0);
    }
    if (self->chars != PyUnicode_GET_LENGTH(result) &&
            PyUnicode_Resize(&result, self->chars) < 0) {
        self->chars = 0;
        return NULL;
    }
    self->chars = 0;
    return result;
}

static Py_ssize_t
text_len(TextBuffer *self)
{
    return self->received;
}

static PyMethodDef text_methods[] = {
    {"append", (PyCFunction)(void (*)(void))text_append, METH_FASTCALL, text_append_doc},
    {"end", (PyCFunction)text_end, METH_NOARGS, text_end_doc},
    {"text", (PyCFunction)text_text, METH_NOARGS, text_text_doc},
    {NULL, NULL, 0, NULL}
};

static PySequenceMethods text_as_sequence = {
    .sq_length = (lenfunc)text_len,
};

PyDoc_STRVAR(text_doc,
"TextBuffer()\n\n"
"The bytes of one text message, piece by piece: unmasked, checked as UTF-8\n"
"as they arrive, decoded once (see text.py). len() is the bytes received.");

static PyTypeObject TextBufferType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wsframe._speedups.TextBuffer",
    .tp_basicsize = sizeof(TextBuffer),
    .tp_dealloc = (destructor)text_dealloc,
    .tp_as_sequence = &text_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = text_doc,
    .tp_methods = text_methods,
    .tp_new = text_new,
};

static PyMethodDef methods[] = {
    {"encode_masked", (PyCFunction)(void (*)(void))encode_masked, METH_FASTCALL,
     encode_masked_doc},
    {"apply_mask", (PyCFunction)(void (*)(void))apply_mask, METH_FASTCALL, apply_mask_doc},
    {"mask_frame", (PyCFunction)(void (*)(void))mask_frame, METH_FASTCALL, mask_frame_doc},
    {"unmask_append", (PyCFunction)(void (*)(void))unmask_append, METH_FASTCALL,
     unmask_append_doc},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wsframe._speedups",
    "Payload masking in C for the compiled build (see masking.py).", -1, methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    /* Each type is readied and added under the last part of its tp_name. */
    PyTypeObject *types[] = {&PayloadBufferType, &TextBufferType};
    PyObject *m = PyModule_Create(&module);

    utf8_tables_init();
    utf8_windows_init();

    if (m == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (PyModule_AddType(m, types[i]) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    }
    return m;
}
