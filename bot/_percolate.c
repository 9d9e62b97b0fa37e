/* The percolator's native kernel: match one paper against every indexed query.
 *
 * bot/matcher_native.py drives it; the Python matcher (bot/matcher.py) is the
 * fallback when this module was not built, and both are held to the same
 * reference evaluator by tests/test_matcher.py.
 *
 * Symbols ("syms") are small integers standing for strings that matter to some
 * query: its terms, cat/source values and prefixes, and the paper words that
 * start with a registered prefix. Python owns the string <-> sym mapping; 0 is
 * a sentence end and 1 any word no query can see. For each paper the kernel
 * marks which syms occur in which field (one bit per field in `pres[sym]`: a
 * small array that stays in cache, cleared after each paper through the list of
 * what was marked), keeps each text field's sequence of syms for phrases, and
 * goes through the queries anchored on what occurs. Each anchor list holds its
 * queries' programs inline (a flat int32 tree, see OP_*), so a paper's candidates
 * are read mostly in sequence, not chased through pointers.
 *
 * ASCII text without backslashes (LaTeX commands are reduced in Python) is
 * lowercased and tokenized here exactly as bot/text.py does: `$ { } '` are
 * deleted, every other byte but letters, digits and `- . ! ? ;` is a space, words
 * are runs of letters and digits joined by inner hyphens, and `. ! ? ;` not
 * followed by a letter or digit is a sentence end taking up one position. Each
 * distinct raw word is folded (plural rules) once, by a Python callback, and
 * cached here. Other text is analyzed in Python and handed over as syms.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { F_ANY, F_TITLE, F_ABSTRACT, F_AUTHOR, F_CAT, F_SOURCE, NF };
enum { OP_TERM = 1, OP_PREFIX, OP_PHRASE, OP_AND, OP_OR, OP_NOT };
#define SENTENCE_END 0
#define UNKNOWN 1
#define WORD_CACHE_LIMIT 300000
#define AHEAD 8 /* anchor lists asked for ahead of their turn */

typedef struct {
    int32_t *v;
    Py_ssize_t n, cap;
} IVec;

static int ivec_push(IVec *a, int32_t x) {
    if (a->n == a->cap) {
        Py_ssize_t cap = a->cap ? a->cap * 2 : 4;
        int32_t *p = PyMem_Realloc(a->v, (size_t)cap * sizeof(int32_t));
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

/* ------------------------------------------------------------------ word cache */

#define INLINE 16 /* words this short live in their slot: one cache miss per lookup */

typedef struct {
    uint64_t hash; /* 0: empty slot */
    uint32_t length;
    int32_t sym;
    union {
        char text[INLINE];
        uint64_t offset; /* of a longer word, in the arena */
    } word;
} WordSlot;

typedef struct {
    WordSlot *slots;
    size_t mask, used, limit; /* limit: cleared when this full (0: never) */
    char *arena;
    size_t arena_used, arena_cap;
} WordCache;

static uint64_t word_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h | 1; /* never 0 */
}

static void words_clear(WordCache *w) {
    if (w->slots != NULL)
        memset(w->slots, 0, (w->mask + 1) * sizeof(WordSlot));
    w->used = 0;
    w->arena_used = 0;
}

static void words_free(WordCache *w) {
    PyMem_Free(w->slots);
    PyMem_Free(w->arena);
    memset(w, 0, sizeof(*w));
}

static int words_grow(WordCache *w) {
    size_t size = w->slots == NULL ? 4096 : (w->mask + 1) * 2;
    WordSlot *slots = PyMem_Calloc(size, sizeof(WordSlot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; w->slots != NULL && i <= w->mask; i++) {
        WordSlot *s = &w->slots[i];
        if (s->hash == 0)
            continue;
        size_t j = s->hash & (size - 1);
        while (slots[j].hash != 0)
            j = (j + 1) & (size - 1);
        slots[j] = *s;
    }
    PyMem_Free(w->slots);
    w->slots = slots;
    w->mask = size - 1;
    return 0;
}

/* The slot of a word: found (hash set) or where to put it (hash 0). */
static WordSlot *words_find(WordCache *w, const char *s, size_t n, uint64_t h) {
    size_t j = h & w->mask;
    for (;;) {
        WordSlot *slot = &w->slots[j];
        if (slot->hash == 0)
            return slot;
        if (slot->hash == h && slot->length == n &&
            memcmp(n <= INLINE ? slot->word.text : w->arena + slot->word.offset, s, n) == 0)
            return slot;
        j = (j + 1) & w->mask;
    }
}

/* Put a word (a known one gets the new sym). */
static int words_put(WordCache *w, const char *s, size_t n, uint64_t h, int32_t sym) {
    if (w->slots != NULL) {
        WordSlot *known = words_find(w, s, n, h);
        if (known->hash != 0) {
            known->sym = sym;
            return 0;
        }
    }
    if (w->limit && w->used >= w->limit)
        words_clear(w);
    if (w->slots == NULL || (w->used + 1) * 2 > w->mask + 1) {
        if (words_grow(w) < 0)
            return -1;
    }
    if (n > INLINE && w->arena_used + n > w->arena_cap) {
        size_t cap = w->arena_cap ? w->arena_cap * 2 : 65536;
        while (cap < w->arena_used + n)
            cap *= 2;
        char *arena = PyMem_Realloc(w->arena, cap);
        if (arena == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        w->arena = arena;
        w->arena_cap = cap;
    }
    WordSlot *slot = words_find(w, s, n, h);
    if (n <= INLINE) {
        memcpy(slot->word.text, s, n);
    } else {
        memcpy(w->arena + w->arena_used, s, n);
        slot->word.offset = w->arena_used;
        w->arena_used += n;
    }
    slot->hash = h;
    slot->length = (uint32_t)n;
    slot->sym = sym;
    w->used++;
    return 0;
}

/* ------------------------------------------------------------------ the kernel */

typedef struct {
    int32_t *code; /* NULL: no such entry */
    Py_ssize_t ncode;
    PyObject *subs; /* tuple of subscription ids sharing this query */
    int32_t *explain; /* leaves whose displays explain a hit; NULL: `terms` always */
    PyObject *terms; /* a tuple of str, or a tuple of (str or None) per explain leaf */
    int32_t *keys; /* anchor keys (key1, key2) pairs, to unregister */
    Py_ssize_t nkeys;
} Entry;

typedef struct {
    PyObject_HEAD
    PyObject *fold_fn; /* raw word (str) -> its folded term (str) */
    PyObject *irregular; /* words fold_fn changes though they do not end in -s */
    PyObject *term_fn; /* term (str) not in `syms` -> its sym (UNKNOWN or a new one) */
    PyObject *prefix_fn; /* sym (of a non-ASCII key) -> tuple of its prefix syms */
    PyObject *syms; /* dict: key str -> sym */
    PyObject *keys; /* list: sym -> key str */
    PyObject *names; /* list: sym -> display str */
    WordCache prefix_table; /* ASCII prefix keys ("\x01" text, "\x03" cat + prefix) -> sym */
    IVec prefix_lengths[2]; /* lengths of the registered text and cat prefixes */
    char *key_buf;
    Py_ssize_t key_cap;
    PyTypeObject *row; /* a tuple subclass: row(sub, paper, terms) is one hit */
    WordCache words;
    Py_ssize_t nsyms; /* capacity of the per-sym arrays */
    uint8_t *pres; /* sym -> bit f set: present in field f of this paper */
    uint8_t *listed; /* sym -> bit f set: queries are anchored on (f, sym) */
    uint32_t *at_stamp[NF]; /* this paper's stamp where `last_at` is valid */
    int32_t *last_at[NF]; /* sym -> its last position in the field's sequence */
    IVec *anchored; /* key -> items (entry, second key or -1, program length, program...) */
    uint32_t *prefix_gen; /* 2 * the generation the cached prefixes are of, + 1 if any */
    IVec *prefixes;
    uint32_t generation;
    Entry *entries;
    uint8_t *seen; /* entry -> already a candidate for this paper */
    Py_ssize_t nentries;
    IVec always;
    uint32_t cur; /* this paper's stamp */
    IVec present; /* keys (sym << 3 | field) stamped for this paper */
    IVec seq[NF]; /* title, abstract, author: syms by position */
    IVec prev_at[NF]; /* position -> the sym's previous position in the field, or -1 */
    IVec joined[NF]; /* (sym, position) pairs of joined hyphen forms */
    IVec candidates, hits, found;
    IVec lookups; /* the present keys that have anchor lists */
    char *buf;
    Py_ssize_t buf_cap;
    struct {
        uint64_t *v;
        Py_ssize_t n, cap;
    } hashes; /* of the words of the text being tokenized */
} Kernel;

#define KEY(f, s) (((s) << 3) | (f))
#define ANCHORED(k, key) (&(k)->anchored[((key) >> 3) * NF + ((key) & 7)])

static int ensure_syms(Kernel *k, Py_ssize_t sym) {
    if (sym < k->nsyms)
        return 0;
    Py_ssize_t n = k->nsyms ? k->nsyms : 1024;
    while (n <= sym)
        n *= 2;
    uint8_t *pres = PyMem_Realloc(k->pres, (size_t)n);
    if (pres == NULL)
        return PyErr_NoMemory(), -1;
    memset(pres + k->nsyms, 0, (size_t)(n - k->nsyms));
    k->pres = pres;
    uint8_t *listed = PyMem_Realloc(k->listed, (size_t)n);
    if (listed == NULL)
        return PyErr_NoMemory(), -1;
    memset(listed + k->nsyms, 0, (size_t)(n - k->nsyms));
    k->listed = listed;
    for (int f = 0; f < NF; f++) {
        uint32_t *as = PyMem_Realloc(k->at_stamp[f], (size_t)n * sizeof(uint32_t));
        if (as == NULL)
            return PyErr_NoMemory(), -1;
        memset(as + k->nsyms, 0, (size_t)(n - k->nsyms) * sizeof(uint32_t));
        k->at_stamp[f] = as;
        int32_t *la = PyMem_Realloc(k->last_at[f], (size_t)n * sizeof(int32_t));
        if (la == NULL)
            return PyErr_NoMemory(), -1;
        k->last_at[f] = la;
    }
    IVec *a = PyMem_Realloc(k->anchored, (size_t)(n * NF) * sizeof(IVec));
    if (a == NULL)
        return PyErr_NoMemory(), -1;
    memset(a + k->nsyms * NF, 0, (size_t)((n - k->nsyms) * NF) * sizeof(IVec));
    k->anchored = a;
    uint32_t *g = PyMem_Realloc(k->prefix_gen, (size_t)n * sizeof(uint32_t));
    if (g == NULL)
        return PyErr_NoMemory(), -1;
    memset(g + k->nsyms, 0, (size_t)(n - k->nsyms) * sizeof(uint32_t));
    k->prefix_gen = g;
    IVec *p = PyMem_Realloc(k->prefixes, (size_t)n * sizeof(IVec));
    if (p == NULL)
        return PyErr_NoMemory(), -1;
    memset(p + k->nsyms, 0, (size_t)(n - k->nsyms) * sizeof(IVec));
    k->prefixes = p;
    k->nsyms = n;
    return 0;
}

static int sym_from(PyObject *obj, int32_t *out) {
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v < 0 || v >= (1L << 28)) {
        PyErr_SetString(PyExc_ValueError, "sym out of range");
        return -1;
    }
    *out = (int32_t)v;
    return 0;
}

/* The sym of a registered prefix: namespace byte + the first `n` bytes of `v`; -1: none. */
static int32_t find_prefix(Kernel *k, char ns, const char *v, Py_ssize_t n) {
    if (k->prefix_table.slots == NULL)
        return -1;
    if (n + 1 > k->key_cap) {
        char *b = PyMem_Realloc(k->key_buf, (size_t)(n + 1) * 2);
        if (b == NULL)
            return -1; /* (no prefix this long could be registered either) */
        k->key_buf = b;
        k->key_cap = (n + 1) * 2;
    }
    k->key_buf[0] = ns;
    memcpy(k->key_buf + 1, v, (size_t)n);
    uint64_t h = word_hash(k->key_buf, (size_t)n + 1);
    WordSlot *slot = words_find(&k->prefix_table, k->key_buf, (size_t)n + 1, h);
    return slot->hash ? slot->sym : -1;
}

/* Push to `out` (if not NULL) the registered prefixes of ASCII `v` (text or cat
 * namespace); the number found. */
static Py_ssize_t ascii_prefixes(Kernel *k, int cat, const char *v, Py_ssize_t len, IVec *out) {
    const IVec *lengths = &k->prefix_lengths[cat];
    Py_ssize_t found = 0;
    for (Py_ssize_t i = 0; i < lengths->n; i++) {
        if (lengths->v[i] > len)
            continue;
        int32_t p = find_prefix(k, cat ? '\x03' : '\x01', v, lengths->v[i]);
        if (p < 0)
            continue;
        found++;
        if (out != NULL && ivec_push(out, p) < 0)
            return -1;
    }
    return found;
}

/* The prefix syms of `sym`, computed once per generation (here for ASCII keys,
 * by Python for others). */
static IVec *prefixes_of(Kernel *k, int32_t sym) {
    IVec *p = &k->prefixes[sym];
    if (k->prefix_gen[sym] >> 1 == k->generation)
        return p;
    PyObject *key = PyList_GetItem(k->keys, sym);
    if (key == NULL || !PyUnicode_Check(key))
        return PyErr_Format(PyExc_ValueError, "no key for sym %d", sym), NULL;
    p->n = 0;
    if (PyUnicode_IS_ASCII(key)) {
        const char *v = (const char *)PyUnicode_DATA(key);
        Py_ssize_t len = PyUnicode_GET_LENGTH(key);
        if (len > 0 && v[0] == '\x02') { /* a cat value */
            if (ascii_prefixes(k, 1, v + 1, len - 1, p) < 0)
                return NULL;
        } else if (len > 0 && (v[0] == '\x01' || v[0] == '\x03' || v[0] == '\x04')) {
            /* a prefix or a source value: no prefixes */
        } else if (ascii_prefixes(k, 0, v, len, p) < 0) {
            return NULL;
        }
        k->prefix_gen[sym] = k->generation << 1 | (p->n > 0);
        return p;
    }
    PyObject *arg = PyLong_FromLong(sym);
    if (arg == NULL)
        return NULL;
    PyObject *res = PyObject_CallOneArg(k->prefix_fn, arg);
    Py_DECREF(arg);
    if (res == NULL)
        return NULL;
    PyObject *seq = PySequence_Fast(res, "prefixes must be a sequence");
    Py_DECREF(res);
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    int32_t *vals = n ? PyMem_Malloc((size_t)n * sizeof(int32_t)) : NULL;
    if (n && vals == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory(), NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (sym_from(PySequence_Fast_GET_ITEM(seq, i), &vals[i]) < 0) {
            PyMem_Free(vals);
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (ensure_syms(k, vals[i]) < 0) {
            PyMem_Free(vals);
            return NULL;
        }
    }
    p = &k->prefixes[sym]; /* ensure_syms may have moved it */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (ivec_push(p, vals[i]) < 0) {
            PyMem_Free(vals);
            return NULL;
        }
    }
    PyMem_Free(vals);
    k->prefix_gen[sym] = k->generation << 1 | (p->n > 0);
    return p;
}

/* Stamp one sym (and its prefixes) as present in a field of this paper. */
static int mark1(Kernel *k, int f, int32_t s) {
    if (k->pres[s] & (1 << f))
        return 0;
    k->pres[s] |= (uint8_t)(1 << f);
    return ivec_push(&k->present, KEY(f, s));
}

static int mark(Kernel *k, int f, int32_t s) {
    if (s <= UNKNOWN || (k->pres[s] & (1 << f)))
        return 0;
    int any = f == F_TITLE || f == F_ABSTRACT;
    if (mark1(k, f, s) < 0 || (any && mark1(k, F_ANY, s) < 0))
        return -1;
    if (k->prefix_gen[s] == k->generation << 1) /* known to start no prefix */
        return 0;
    IVec *p = prefixes_of(k, s);
    if (p == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < p->n; i++) {
        if (mark1(k, f, p->v[i]) < 0 || (any && mark1(k, F_ANY, p->v[i]) < 0))
            return -1;
    }
    return 0;
}

/* Append a sym at the next position of field f's sequence. */
static int push_at(Kernel *k, int f, int32_t s) {
    int32_t p = (int32_t)k->seq[f].n, prev = -1;
    if (s > UNKNOWN) {
        if (k->at_stamp[f][s] == k->cur)
            prev = k->last_at[f][s];
        k->at_stamp[f][s] = k->cur;
        k->last_at[f][s] = p;
    }
    return ivec_push(&k->seq[f], s) < 0 || ivec_push(&k->prev_at[f], prev) < 0 ? -1 : 0;
}

static int word_sym(Kernel *k, const char *s, size_t n, uint64_t h, int32_t *out) {
    if (k->words.slots != NULL) {
        WordSlot *slot = words_find(&k->words, s, n, h);
        if (slot->hash != 0) {
            *out = slot->sym;
            return 0;
        }
    }
    /* A new word: fold it (Python: the documented rules; they change only words
     * ending in -s and the irregular ones), look its term up among the query keys,
     * and ask Python for a sym only if a prefix may want it. */
    PyObject *raw = PyUnicode_DecodeASCII(s, (Py_ssize_t)n, NULL);
    if (raw == NULL)
        return -1;
    int irregular = s[n - 1] == 's' ? 1 : PySequence_Contains(k->irregular, raw);
    PyObject *term = raw;
    if (irregular < 0) {
        Py_DECREF(raw);
        return -1;
    }
    if (irregular) {
        term = PyObject_CallOneArg(k->fold_fn, raw);
        Py_DECREF(raw);
        if (term == NULL)
            return -1;
    }
    if (!PyUnicode_Check(term)) {
        Py_DECREF(term);
        PyErr_SetString(PyExc_TypeError, "fold must return a str");
        return -1;
    }
    int32_t sym = UNKNOWN;
    int bad = 0;
    PyObject *found = PyDict_GetItemWithError(k->syms, term);
    if (found != NULL) {
        bad = sym_from(found, &sym);
    } else if (PyErr_Occurred()) {
        bad = -1;
    } else {
        Py_ssize_t np = 1;
        if (PyUnicode_IS_ASCII(term))
            np = ascii_prefixes(k, 0, (const char *)PyUnicode_DATA(term),
                                PyUnicode_GET_LENGTH(term), NULL);
        if (np < 0) {
            bad = -1;
        } else if (np > 0) {
            PyObject *res = PyObject_CallOneArg(k->term_fn, term);
            bad = res == NULL ? -1 : sym_from(res, &sym);
            Py_XDECREF(res);
        }
    }
    Py_DECREF(term);
    if (bad < 0 || ensure_syms(k, sym) < 0)
        return -1;
    *out = sym;
    return words_put(&k->words, s, n, h, sym);
}

static inline int is_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Tokenize ASCII text into field f (see the comment at the top). */
static int tokenize(Kernel *k, int f, const char *text, Py_ssize_t len) {
    if (len + 1 > k->buf_cap) {
        Py_ssize_t cap = (len + 1) * 2;
        char *b = PyMem_Realloc(k->buf, (size_t)cap * 2);
        if (b == NULL)
            return PyErr_NoMemory(), -1;
        k->buf = b;
        k->buf_cap = cap;
    }
    char *buf = k->buf, *joined = k->buf + k->buf_cap;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c == '$' || c == '{' || c == '}' || c == '\'')
            continue;
        if (is_alnum(c) || c == '-' || c == '.' || c == '!' || c == '?' || c == ';')
            buf[n++] = (char)c;
        else
            buf[n++] = ' ';
    }
    /* Every word's slot in the word cache is asked for before the first is needed:
     * the misses of a text's rare words then overlap instead of queueing. */
    k->hashes.n = 0;
    for (Py_ssize_t i = 0; i < n;) {
        if (!is_alnum((unsigned char)buf[i])) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < n && is_alnum((unsigned char)buf[i]))
            i++;
        uint64_t h = word_hash(buf + start, (size_t)(i - start));
        if (k->words.slots != NULL)
            __builtin_prefetch(&k->words.slots[h & k->words.mask]);
        if (k->hashes.n == k->hashes.cap) {
            Py_ssize_t cap = k->hashes.cap ? k->hashes.cap * 2 : 256;
            uint64_t *v = PyMem_Realloc(k->hashes.v, (size_t)cap * sizeof(uint64_t));
            if (v == NULL)
                return PyErr_NoMemory(), -1;
            k->hashes.v = v;
            k->hashes.cap = cap;
        }
        k->hashes.v[k->hashes.n++] = h;
    }
    const uint64_t *hashes = k->hashes.v;
    Py_ssize_t piece = 0;
    IVec *seq = &k->seq[f], *jv = &k->joined[f];
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)buf[i];
        if (is_alnum(c)) {
            Py_ssize_t first = seq->n, jn = 0, pieces = 0;
            for (;;) {
                Py_ssize_t ps = i;
                while (i < n && is_alnum((unsigned char)buf[i]))
                    i++;
                int32_t sym;
                if (word_sym(k, buf + ps, (size_t)(i - ps), hashes[piece++], &sym) < 0)
                    return -1;
                if (push_at(k, f, sym) < 0 || mark(k, f, sym) < 0)
                    return -1;
                memcpy(joined + jn, buf + ps, (size_t)(i - ps));
                jn += i - ps;
                pieces++;
                if (i + 1 < n && buf[i] == '-' && is_alnum((unsigned char)buf[i + 1]))
                    i++;
                else
                    break;
            }
            if (pieces > 1) {
                int32_t sym;
                if (word_sym(k, joined, (size_t)jn, word_hash(joined, (size_t)jn), &sym) < 0)
                    return -1;
                if (sym > UNKNOWN) {
                    if (ivec_push(jv, sym) < 0 || ivec_push(jv, (int32_t)first) < 0)
                        return -1;
                    if (mark(k, f, sym) < 0)
                        return -1;
                }
            }
        } else if ((c == '.' || c == '!' || c == '?' || c == ';') &&
                   (i + 1 >= n || !is_alnum((unsigned char)buf[i + 1]))) {
            if (push_at(k, f, SENTENCE_END) < 0)
                return -1;
            i++;
        } else {
            i++;
        }
    }
    return 0;
}

/* Syms by position (a field's terms, or its values), appended to field f and marked. */
static int take_syms(Kernel *k, int f, PyObject *obj) {
    PyObject *fast = PySequence_Fast(obj, "syms must be a sequence");
    if (fast == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t v;
        if (sym_from(PySequence_Fast_GET_ITEM(fast, i), &v) < 0 || ensure_syms(k, v) < 0 ||
            push_at(k, f, v) < 0 || mark(k, f, v) < 0) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

/* A field given as (syms by position, flat (sym, position) pairs of joined forms). */
static int take_tokens(Kernel *k, int f, PyObject *obj) {
    PyObject *seq_obj, *joined_obj;
    if (!PyArg_ParseTuple(obj, "OO", &seq_obj, &joined_obj) || take_syms(k, f, seq_obj) < 0)
        return -1;
    PyObject *fast = PySequence_Fast(joined_obj, "joined forms must be a sequence");
    if (fast == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t v;
        int is_sym = i % 2 == 0;
        if (sym_from(PySequence_Fast_GET_ITEM(fast, i), &v) < 0 ||
            (is_sym && ensure_syms(k, v) < 0) || ivec_push(&k->joined[f], v) < 0 ||
            (is_sym && mark(k, f, v) < 0)) {
            Py_DECREF(fast);
            return -1;
        }
    }
    Py_DECREF(fast);
    return 0;
}

static int take_field(Kernel *k, int f, PyObject *obj) {
    if (PyUnicode_Check(obj)) {
        Py_ssize_t len;
        const char *text = PyUnicode_AsUTF8AndSize(obj, &len);
        if (text == NULL)
            return -1;
        return tokenize(k, f, text, len);
    }
    return take_tokens(k, f, obj);
}

/* ------------------------------------------------------------------ evaluation */

static int joined_at(const IVec *jv, int32_t sym, int32_t pos) {
    for (Py_ssize_t i = 0; i < jv->n; i += 2)
        if (jv->v[i] == sym && jv->v[i + 1] == pos)
            return 1;
    return 0;
}

/* Do syms[1:] follow position p (where syms[0] is) in a field? */
static int phrase_from(const IVec *seq, const IVec *jv, int32_t n, const int32_t *syms,
                       Py_ssize_t p) {
    for (int32_t i = 1; i < n; i++) {
        Py_ssize_t q = p + i;
        if (!((q < seq->n && seq->v[q] == syms[i]) ||
              (jv->n && joined_at(jv, syms[i], (int32_t)q))))
            return 0;
    }
    return 1;
}

static int phrase_in(Kernel *k, int f, int32_t n, const int32_t *syms) {
    for (int32_t i = 0; i < n; i++)
        if (!(k->pres[syms[i]] & (1 << f)))
            return 0;
    const IVec *seq = &k->seq[f], *jv = &k->joined[f];
    if (k->at_stamp[f][syms[0]] == k->cur) {
        for (int32_t p = k->last_at[f][syms[0]]; p >= 0; p = k->prev_at[f].v[p])
            if (phrase_from(seq, jv, n, syms, p))
                return 1;
    }
    for (Py_ssize_t j = 0; j < jv->n; j += 2)
        if (jv->v[j] == syms[0] && phrase_from(seq, jv, n, syms, jv->v[j + 1]))
            return 1;
    return 0;
}

static int eval(Kernel *k, const int32_t *c, Py_ssize_t *pc) {
    Py_ssize_t at = *pc;
    switch (c[at]) {
    case OP_TERM:
    case OP_PREFIX:
        *pc = at + 3;
        return (k->pres[c[at + 2]] >> c[at + 1]) & 1;
    case OP_PHRASE: {
        int f = c[at + 1];
        int32_t n = c[at + 2];
        *pc = at + 3 + n;
        if (f == F_ANY)
            return phrase_in(k, F_TITLE, n, c + at + 3) || phrase_in(k, F_ABSTRACT, n, c + at + 3);
        return phrase_in(k, f, n, c + at + 3);
    }
    case OP_AND:
    case OP_OR: {
        int32_t n = c[at + 1];
        Py_ssize_t end = at + c[at + 2];
        int want = c[at] == OP_OR; /* the child result that decides */
        *pc = at + 3;
        for (int32_t i = 0; i < n; i++) {
            if (eval(k, c, pc) == want) {
                *pc = end;
                return want;
            }
        }
        return !want;
    }
    case OP_NOT:
        *pc = at + 1;
        return !eval(k, c, pc);
    }
    return 0;
}

/* The paper's terms (or values) of field f that start with prefix sym p, sorted, at most 3. */
static int prefix_terms(Kernel *k, int f, int32_t p, PyObject *out) {
    int fields[2] = {f, -1};
    if (f == F_ANY) {
        fields[0] = F_TITLE;
        fields[1] = F_ABSTRACT;
    }
    k->found.n = 0;
    for (int fi = 0; fi < 2 && fields[fi] >= 0; fi++) {
        int g = fields[fi];
        IVec *lists[2] = {&k->seq[g], &k->joined[g]};
        for (int li = 0; li < 2; li++) {
            Py_ssize_t step = li == 0 ? 1 : 2;
            for (Py_ssize_t i = 0; i < lists[li]->n; i += step) {
                int32_t s = lists[li]->v[i];
                if (s <= UNKNOWN)
                    continue;
                IVec *ps = prefixes_of(k, s);
                if (ps == NULL)
                    return -1;
                int has = 0, dup = 0;
                for (Py_ssize_t j = 0; j < ps->n && !has; j++)
                    has = ps->v[j] == p;
                for (Py_ssize_t j = 0; has && j < k->found.n && !dup; j++)
                    dup = k->found.v[j] == s;
                if (has && !dup && ivec_push(&k->found, s) < 0)
                    return -1;
            }
        }
    }
    Py_ssize_t n = k->found.n;
    PyObject *terms = PyList_New(n);
    if (terms == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyList_GetItem(k->names, k->found.v[i]);
        if (name == NULL) {
            Py_DECREF(terms);
            return -1;
        }
        Py_INCREF(name);
        PyList_SET_ITEM(terms, i, name);
    }
    if (PyList_Sort(terms) < 0) {
        Py_DECREF(terms);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n && i < 3; i++) {
        if (PyList_Append(out, PyList_GET_ITEM(terms, i)) < 0) {
            Py_DECREF(terms);
            return -1;
        }
    }
    Py_DECREF(terms);
    return 0;
}

/* Why a hit matched: the displays of its true positive leaves, in order, once each. */
static PyObject *explain(Kernel *k, Entry *e) {
    if (e->explain == NULL) {
        Py_INCREF(e->terms);
        return e->terms;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    Py_ssize_t pc = 0, nleaves = PyTuple_GET_SIZE(e->terms);
    for (Py_ssize_t i = 0; i < nleaves; i++) {
        PyObject *display = PyTuple_GET_ITEM(e->terms, i);
        if (e->explain[pc] == OP_PREFIX) {
            int f = e->explain[pc + 1];
            int32_t p = e->explain[pc + 2];
            pc += 3;
            if (prefix_terms(k, f, p, out) < 0) {
                Py_DECREF(out);
                return NULL;
            }
        } else if (eval(k, e->explain, &pc) && PyList_Append(out, display) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    /* dict.fromkeys: the first of equal strings stays */
    PyObject *unique = PyList_New(0);
    if (unique == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(out); i++) {
        PyObject *item = PyList_GET_ITEM(out, i);
        int seen = PySequence_Contains(unique, item);
        if (seen < 0 || (!seen && PyList_Append(unique, item) < 0)) {
            Py_DECREF(out);
            Py_DECREF(unique);
            return NULL;
        }
    }
    Py_DECREF(out);
    PyObject *result = PyList_AsTuple(unique);
    Py_DECREF(unique);
    return result;
}

static int cmp_int32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void new_paper(Kernel *k) {
    for (Py_ssize_t i = 0; i < k->present.n; i++)
        k->pres[k->present.v[i] >> 3] = 0;
    for (Py_ssize_t i = 0; i < k->candidates.n; i++)
        k->seen[k->candidates.v[i]] = 0;
    k->present.n = 0;
    k->candidates.n = 0;
    k->cur++;
    if (k->cur == 0) { /* after 2^32 papers: forget every position stamp once */
        for (int f = 0; f < NF; f++)
            memset(k->at_stamp[f], 0, (size_t)k->nsyms * sizeof(uint32_t));
        k->cur = 1;
    }
    for (int f = 0; f < NF; f++) {
        k->seq[f].n = 0;
        k->prev_at[f].n = 0;
        k->joined[f].n = 0;
    }
}

/* Put row(sub, paper, terms) for every subscription of a matching entry into `out`
 * from index *at on. */
static int add_rows(Kernel *k, PyObject *out, Py_ssize_t *at, Entry *entry, PyObject *paper) {
    PyObject *terms = explain(k, entry);
    if (terms == NULL)
        return -1;
    Py_ssize_t n = PyTuple_GET_SIZE(entry->subs);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = k->row->tp_alloc(k->row, 3);
        if (row == NULL) {
            Py_DECREF(terms);
            return -1;
        }
        PyObject *sub = PyTuple_GET_ITEM(entry->subs, i);
        Py_INCREF(sub);
        Py_INCREF(paper);
        Py_INCREF(terms);
        PyTuple_SET_ITEM(row, 0, sub);
        PyTuple_SET_ITEM(row, 1, paper);
        PyTuple_SET_ITEM(row, 2, terms);
        PyObject_GC_UnTrack(row); /* strings and a tuple of strings: no cycle to find */
        PyList_SET_ITEM(out, (*at)++, row);
    }
    Py_DECREF(terms);
    return 0;
}

/* Run a candidate's program once per paper; remember it among the hits if it matches. */
static int consider(Kernel *k, int32_t e, const int32_t *code) {
    if (k->seen[e])
        return 0;
    k->seen[e] = 1;
    if (ivec_push(&k->candidates, e) < 0)
        return -1;
    Py_ssize_t pc = 0;
    return eval(k, code, &pc) ? ivec_push(&k->hits, e) : 0;
}

static PyObject *Kernel_match(Kernel *k, PyObject *args) {
    PyObject *paper, *title, *abstract, *author, *cats, *sources;
    if (!PyArg_ParseTuple(args, "OOOOOO", &paper, &title, &abstract, &author, &cats, &sources))
        return NULL;
    new_paper(k);
    if (take_field(k, F_TITLE, title) < 0 || take_field(k, F_ABSTRACT, abstract) < 0 ||
        take_field(k, F_AUTHOR, author) < 0 || take_syms(k, F_CAT, cats) < 0 ||
        take_syms(k, F_SOURCE, sources) < 0)
        return NULL;
    k->hits.n = 0;
    for (Py_ssize_t i = 0; i < k->always.n; i++) {
        int32_t e = k->always.v[i];
        if (consider(k, e, k->entries[e].code) < 0)
            return NULL;
    }
    /* Memory latency is what costs here: the lists of what a paper holds are spread
     * over the index, so each is asked for a few keys ahead of its turn. */
    k->lookups.n = 0;
    for (Py_ssize_t i = 0; i < k->present.n; i++) {
        int32_t key = k->present.v[i];
        if ((k->listed[key >> 3] >> (key & 7)) & 1 && ivec_push(&k->lookups, key) < 0)
            return NULL;
    }
    const int32_t *present = k->lookups.v;
    Py_ssize_t npresent = k->lookups.n;
    for (Py_ssize_t i = 0; i < npresent && i < AHEAD; i++)
        __builtin_prefetch(ANCHORED(k, present[i]));
    for (Py_ssize_t i = 0; i < npresent; i++) {
        if (i + AHEAD < npresent)
            __builtin_prefetch(ANCHORED(k, present[i + AHEAD]));
        if (i + AHEAD / 2 < npresent) {
            const IVec *soon = ANCHORED(k, present[i + AHEAD / 2]);
            if (soon->v != NULL)
                __builtin_prefetch(soon->v);
        }
        const IVec *list = ANCHORED(k, present[i]);
        for (Py_ssize_t j = 0; j < list->n; j += 3 + list->v[j + 2]) {
            int32_t second = list->v[j + 1];
            if (second >= 0 && !(k->pres[second >> 3] & (1 << (second & 7))))
                continue;
            if (consider(k, list->v[j], list->v + j + 3) < 0)
                return NULL;
        }
    }
    qsort(k->hits.v, (size_t)k->hits.n, sizeof(int32_t), cmp_int32);
    /* The same for the hits: entries, then their tuples, then subscription ids. */
    const int32_t *hits = k->hits.v;
    Py_ssize_t nhits = k->hits.n;
    for (Py_ssize_t i = 0; i < nhits; i++)
        __builtin_prefetch(&k->entries[hits[i]]);
    for (Py_ssize_t i = 0; i < nhits; i++) {
        __builtin_prefetch(k->entries[hits[i]].subs);
        __builtin_prefetch(k->entries[hits[i]].terms);
    }
    Py_ssize_t rows = 0;
    for (Py_ssize_t i = 0; i < nhits; i++) {
        PyObject *subs = k->entries[hits[i]].subs;
        if (PyTuple_GET_SIZE(subs) > 0)
            __builtin_prefetch(PyTuple_GET_ITEM(subs, 0));
        rows += PyTuple_GET_SIZE(subs);
    }
    PyObject *out = PyList_New(rows);
    if (out == NULL)
        return NULL;
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < nhits; i++) {
        if (add_rows(k, out, &at, &k->entries[hits[i]], paper) < 0) {
            Py_SET_SIZE(out, at); /* only the rows made so far are freed */
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* ------------------------------------------------------------------ registration */

static int32_t *int32s(PyObject *obj, Py_ssize_t *n) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    if (view.len % 4 != 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "a program is int32 values");
        return NULL;
    }
    int32_t *out = PyMem_Malloc(view.len ? (size_t)view.len : 4);
    if (out == NULL) {
        PyBuffer_Release(&view);
        return (int32_t *)PyErr_NoMemory();
    }
    memcpy(out, view.buf, (size_t)view.len);
    *n = view.len / 4;
    PyBuffer_Release(&view);
    return out;
}

/* Check one node of a program (and its children); *pc moves past it. */
static int check_node(Kernel *k, const int32_t *c, Py_ssize_t n, Py_ssize_t *pc, int depth) {
    Py_ssize_t at = *pc;
    if (at >= n || depth > 64)
        return -1;
    int32_t op = c[at];
    if (op == OP_TERM || op == OP_PREFIX || op == OP_PHRASE) {
        if (at + 3 > n || c[at + 1] < 0 || c[at + 1] >= NF)
            return -1;
        Py_ssize_t m = op == OP_PHRASE ? c[at + 2] : 1;
        Py_ssize_t first = op == OP_PHRASE ? at + 3 : at + 2;
        if (m < 1 || first + m > n)
            return -1;
        for (Py_ssize_t i = first; i < first + m; i++)
            if (c[i] < 0 || ensure_syms(k, c[i]) < 0)
                return -1;
        *pc = first + m;
        return 0;
    }
    if (op == OP_AND || op == OP_OR) {
        if (at + 3 > n || c[at + 1] < 1)
            return -1;
        *pc = at + 3;
        for (int32_t i = 0; i < c[at + 1]; i++)
            if (check_node(k, c, n, pc, depth + 1) < 0)
                return -1;
        return *pc - at == c[at + 2] ? 0 : -1; /* where a false AND skips to */
    }
    if (op == OP_NOT) {
        *pc = at + 1;
        return check_node(k, c, n, pc, depth + 1);
    }
    return -1;
}

/* A query program is one node; an explanation program is `leaves` leaves. */
static int check_program(Kernel *k, const int32_t *c, Py_ssize_t n, Py_ssize_t leaves) {
    Py_ssize_t pc = 0, count = 0;
    while (pc < n && count < (leaves < 0 ? 1 : leaves)) {
        if (leaves >= 0 && c[pc] != OP_TERM && c[pc] != OP_PREFIX && c[pc] != OP_PHRASE)
            break;
        if (check_node(k, c, n, &pc, 0) < 0)
            break;
        count++;
    }
    if (pc == n && count == (leaves < 0 ? 1 : leaves))
        return 0;
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "malformed program");
    return -1;
}

static int check_key(Kernel *k, int32_t key) {
    if (key < 0 || (key & 7) >= NF) {
        PyErr_SetString(PyExc_ValueError, "bad anchor key");
        return -1;
    }
    return ensure_syms(k, key >> 3);
}

static PyObject *Kernel_add(Kernel *k, PyObject *args) {
    int e;
    PyObject *subs, *code_obj, *anchors_obj, *terms, *explain_obj;
    if (!PyArg_ParseTuple(args, "iO!OOO!O", &e, &PyTuple_Type, &subs, &code_obj, &anchors_obj,
                          &PyTuple_Type, &terms, &explain_obj))
        return NULL;
    if (e < 0) {
        PyErr_SetString(PyExc_ValueError, "entry ids are not negative");
        return NULL;
    }
    if (e >= k->nentries) {
        Py_ssize_t n = k->nentries ? k->nentries : 1024;
        while (n <= e)
            n *= 2;
        Entry *entries = PyMem_Realloc(k->entries, (size_t)n * sizeof(Entry));
        if (entries == NULL)
            return PyErr_NoMemory();
        memset(entries + k->nentries, 0, (size_t)(n - k->nentries) * sizeof(Entry));
        k->entries = entries;
        uint8_t *seen = PyMem_Realloc(k->seen, (size_t)n);
        if (seen == NULL)
            return PyErr_NoMemory();
        memset(seen + k->nentries, 0, (size_t)(n - k->nentries));
        k->seen = seen;
        k->nentries = n;
    }
    if (k->entries[e].code != NULL) {
        PyErr_SetString(PyExc_ValueError, "entry already added");
        return NULL;
    }
    Py_ssize_t ncode, nkeys, nexplain = 0;
    int32_t *code = int32s(code_obj, &ncode);
    if (code == NULL)
        return NULL;
    int32_t *keys = int32s(anchors_obj, &nkeys);
    int32_t *xcode = NULL;
    if (keys == NULL)
        goto fail;
    if (explain_obj != Py_None && (xcode = int32s(explain_obj, &nexplain)) == NULL)
        goto fail;
    if (check_program(k, code, ncode, -1) < 0 ||
        (xcode && check_program(k, xcode, nexplain, PyTuple_GET_SIZE(terms)) < 0))
        goto fail;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(terms); i++) {
        PyObject *t = PyTuple_GET_ITEM(terms, i);
        if (!PyUnicode_Check(t) && !(xcode && t == Py_None)) {
            PyErr_SetString(PyExc_TypeError, "terms are str (None: a prefix leaf's terms)");
            goto fail;
        }
    }
    if (nkeys % 2 != 0) {
        PyErr_SetString(PyExc_ValueError, "anchors come in (key, second key or -1) pairs");
        goto fail;
    }
    for (Py_ssize_t i = 0; i < nkeys; i++)
        if ((i % 2 == 0 || keys[i] >= 0) && check_key(k, keys[i]) < 0)
            goto fail;
    for (Py_ssize_t i = 0; i < nkeys; i += 2) {
        int32_t key = keys[i];
        IVec *list = ANCHORED(k, key);
        k->listed[key >> 3] |= (uint8_t)(1 << (key & 7));
        if (ivec_push(list, e) < 0 || ivec_push(list, keys[i + 1]) < 0 ||
            ivec_push(list, (int32_t)ncode) < 0)
            goto fail;
        for (Py_ssize_t c = 0; c < ncode; c++)
            if (ivec_push(list, code[c]) < 0)
                goto fail;
    }
    if (nkeys == 0 && ivec_push(&k->always, e) < 0)
        goto fail;
    Entry *entry = &k->entries[e];
    entry->code = code;
    entry->ncode = ncode;
    Py_INCREF(subs);
    entry->subs = subs;
    entry->explain = xcode;
    entry->keys = keys;
    entry->nkeys = nkeys;
    Py_INCREF(terms);
    entry->terms = terms;
    Py_RETURN_NONE;
fail:
    PyMem_Free(code);
    PyMem_Free(keys);
    PyMem_Free(xcode);
    return NULL;
}

static void remove_items(IVec *list, int32_t e) {
    Py_ssize_t w = 0;
    for (Py_ssize_t r = 0; r < list->n;) {
        Py_ssize_t size = 3 + list->v[r + 2];
        if (list->v[r] != e) {
            memmove(list->v + w, list->v + r, (size_t)size * sizeof(int32_t));
            w += size;
        }
        r += size;
    }
    list->n = w;
}

static PyObject *Kernel_remove(Kernel *k, PyObject *arg) {
    long e = PyLong_AsLong(arg);
    if (e == -1 && PyErr_Occurred())
        return NULL;
    if (e < 0 || e >= k->nentries || k->entries[e].code == NULL) {
        PyErr_SetString(PyExc_KeyError, "no such entry");
        return NULL;
    }
    Entry *entry = &k->entries[e];
    for (Py_ssize_t i = 0; i < entry->nkeys; i += 2) {
        int32_t key = entry->keys[i];
        IVec *list = ANCHORED(k, key);
        remove_items(list, (int32_t)e);
        if (list->n == 0) { /* give the memory back */
            k->listed[key >> 3] &= (uint8_t)~(1 << (key & 7));
            PyMem_Free(list->v);
            list->v = NULL;
            list->cap = 0;
        }
    }
    if (entry->nkeys == 0) {
        Py_ssize_t w = 0;
        for (Py_ssize_t r = 0; r < k->always.n; r++)
            if (k->always.v[r] != e)
                k->always.v[w++] = k->always.v[r];
        k->always.n = w;
    }
    PyMem_Free(entry->code);
    PyMem_Free(entry->explain);
    PyMem_Free(entry->keys);
    Py_CLEAR(entry->terms);
    Py_CLEAR(entry->subs);
    memset(entry, 0, sizeof(*entry));
    Py_RETURN_NONE;
}

static PyObject *Kernel_set_subs(Kernel *k, PyObject *args) {
    int e;
    PyObject *subs;
    if (!PyArg_ParseTuple(args, "iO!", &e, &PyTuple_Type, &subs))
        return NULL;
    if (e < 0 || e >= k->nentries || k->entries[e].code == NULL) {
        PyErr_SetString(PyExc_KeyError, "no such entry");
        return NULL;
    }
    Py_INCREF(subs);
    Py_SETREF(k->entries[e].subs, subs);
    Py_RETURN_NONE;
}

static PyObject *Kernel_add_prefix(Kernel *k, PyObject *args) {
    PyObject *key;
    int sym;
    if (!PyArg_ParseTuple(args, "Ui", &key, &sym))
        return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(key);
    const char *v = (const char *)PyUnicode_DATA(key);
    if (!PyUnicode_IS_ASCII(key) || len < 2 || (v[0] != '\x01' && v[0] != '\x03')) {
        PyErr_SetString(PyExc_ValueError, "a prefix key is ASCII: \\x01 or \\x03 + prefix");
        return NULL;
    }
    if (sym < 0 || ensure_syms(k, sym) < 0)
        return sym < 0 ? PyErr_Format(PyExc_ValueError, "bad sym %d", sym) : NULL;
    if (words_put(&k->prefix_table, v, (size_t)len, word_hash(v, (size_t)len), sym) < 0)
        return NULL;
    IVec *lengths = &k->prefix_lengths[v[0] == '\x03'];
    for (Py_ssize_t i = 0; i < lengths->n; i++)
        if (lengths->v[i] == len - 1)
            goto known;
    if (ivec_push(lengths, (int32_t)(len - 1)) < 0)
        return NULL;
known:
    k->generation++; /* prefixes computed so far may miss this one */
    Py_RETURN_NONE;
}

static PyObject *Kernel_forget_words(Kernel *k, PyObject *Py_UNUSED(ignored)) {
    words_clear(&k->words);
    k->generation++;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ the type */

static int Kernel_init(Kernel *k, PyObject *args, PyObject *kwargs) {
    PyObject *fold_fn, *irregular, *term_fn, *prefix_fn, *syms, *keys, *names;
    PyTypeObject *row;
    static char *kwlist[] = {"fold",  "irregular", "term", "prefixes", "syms",
                             "keys",  "names",     "row",  NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOO!O!O!O!", kwlist, &fold_fn, &irregular,
                                     &term_fn, &prefix_fn, &PyDict_Type, &syms, &PyList_Type,
                                     &keys, &PyList_Type, &names, &PyType_Type, &row))
        return -1;
    if (!PyType_IsSubtype(row, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "row must be a tuple subclass");
        return -1;
    }
    if (k->fold_fn != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Kernel is initialized once");
        return -1;
    }
    Py_INCREF(fold_fn);
    Py_INCREF(irregular);
    k->irregular = irregular;
    Py_INCREF(term_fn);
    Py_INCREF(prefix_fn);
    Py_INCREF(syms);
    Py_INCREF(keys);
    Py_INCREF(names);
    Py_INCREF(row);
    k->fold_fn = fold_fn;
    k->term_fn = term_fn;
    k->prefix_fn = prefix_fn;
    k->syms = syms;
    k->keys = keys;
    k->names = names;
    k->row = row;
    k->words.limit = WORD_CACHE_LIMIT;
    k->generation = 1;
    return ensure_syms(k, 2);
}

static int Kernel_traverse(Kernel *k, visitproc visit, void *arg) {
    Py_VISIT(k->fold_fn);
    Py_VISIT(k->irregular);
    Py_VISIT(k->term_fn);
    Py_VISIT(k->prefix_fn);
    Py_VISIT(k->syms);
    Py_VISIT(k->keys);
    Py_VISIT(k->names);
    Py_VISIT(k->row);
    for (Py_ssize_t e = 0; e < k->nentries; e++) {
        Py_VISIT(k->entries[e].terms);
        Py_VISIT(k->entries[e].subs);
    }
    return 0;
}

static int Kernel_clear(Kernel *k) {
    Py_CLEAR(k->fold_fn);
    Py_CLEAR(k->irregular);
    Py_CLEAR(k->term_fn);
    Py_CLEAR(k->prefix_fn);
    Py_CLEAR(k->syms);
    Py_CLEAR(k->keys);
    Py_CLEAR(k->names);
    Py_CLEAR(k->row);
    for (Py_ssize_t e = 0; e < k->nentries; e++) {
        Py_CLEAR(k->entries[e].terms);
        Py_CLEAR(k->entries[e].subs);
    }
    return 0;
}

static void Kernel_dealloc(Kernel *k) {
    PyObject_GC_UnTrack(k);
    Kernel_clear(k);
    words_free(&k->words);
    words_free(&k->prefix_table);
    PyMem_Free(k->prefix_lengths[0].v);
    PyMem_Free(k->prefix_lengths[1].v);
    PyMem_Free(k->key_buf);
    for (int f = 0; f < NF; f++) {
        PyMem_Free(k->at_stamp[f]);
        PyMem_Free(k->last_at[f]);
        PyMem_Free(k->prev_at[f].v);
        PyMem_Free(k->seq[f].v);
        PyMem_Free(k->joined[f].v);
    }
    for (Py_ssize_t s = 0; s < k->nsyms; s++)
        PyMem_Free(k->prefixes[s].v);
    PyMem_Free(k->prefixes);
    PyMem_Free(k->pres);
    PyMem_Free(k->listed);
    PyMem_Free(k->prefix_gen);
    for (Py_ssize_t i = 0; i < k->nsyms * NF; i++)
        PyMem_Free(k->anchored[i].v);
    PyMem_Free(k->anchored);
    for (Py_ssize_t e = 0; e < k->nentries; e++) {
        PyMem_Free(k->entries[e].code);
        PyMem_Free(k->entries[e].explain);
        PyMem_Free(k->entries[e].keys);
    }
    PyMem_Free(k->entries);
    PyMem_Free(k->seen);
    PyMem_Free(k->always.v);
    PyMem_Free(k->present.v);
    PyMem_Free(k->candidates.v);
    PyMem_Free(k->lookups.v);
    PyMem_Free(k->hits.v);
    PyMem_Free(k->found.v);
    PyMem_Free(k->buf);
    PyMem_Free(k->hashes.v);
    Py_TYPE(k)->tp_free((PyObject *)k);
}

static PyMethodDef Kernel_methods[] = {
    {"match", (PyCFunction)Kernel_match, METH_VARARGS,
     "match(paper_id, title, abstract, author, cats, sources) -> [row(sub, paper_id, terms)]\n"
     "by entry. A text field is ASCII text without backslashes, or (syms by position,\n"
     "joined (sym, position) pairs flattened); cats and sources are syms."},
    {"add", (PyCFunction)Kernel_add, METH_VARARGS,
     "add(entry, subs, program, anchors, terms, explain): index a query program (int32\n"
     "bytes) under anchor key pairs (int32 bytes; none: checked on every paper)."},
    {"set_subs", (PyCFunction)Kernel_set_subs, METH_VARARGS,
     "set_subs(entry, subs): the subscriptions sharing an entry's query."},
    {"remove", (PyCFunction)Kernel_remove, METH_O, "remove(entry): forget an entry."},
    {"add_prefix", (PyCFunction)Kernel_add_prefix, METH_VARARGS,
     "add_prefix(key, sym): register an ASCII prefix key (\\x01 text or \\x03 cat + prefix)."},
    {"forget_words", (PyCFunction)Kernel_forget_words, METH_NOARGS,
     "Forget cached words and prefixes (after new query terms or prefixes)."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject KernelType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bot._percolate.Kernel",
    .tp_basicsize = sizeof(Kernel),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The percolator's native kernel (see bot/matcher_native.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Kernel_init,
    .tp_dealloc = (destructor)Kernel_dealloc,
    .tp_traverse = (traverseproc)Kernel_traverse,
    .tp_clear = (inquiry)Kernel_clear,
    .tp_methods = Kernel_methods,
};

static struct PyModuleDef percolate_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "bot._percolate",
    .m_doc = "The percolator's native kernel.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__percolate(void) {
    if (PyType_Ready(&KernelType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&percolate_module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&KernelType);
    if (PyModule_AddObject(m, "Kernel", (PyObject *)&KernelType) < 0) {
        Py_DECREF(&KernelType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
