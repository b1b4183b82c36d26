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
    PyObject *m;

    if (PyType_Ready(&PayloadBufferType) < 0) {
        return NULL;
    }
    m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&PayloadBufferType);
    if (PyModule_AddObject(m, "PayloadBuffer", (PyObject *)&PayloadBufferType) < 0) {
        Py_DECREF(&PayloadBufferType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
