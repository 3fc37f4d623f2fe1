using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using XraySynth.Runtime;

namespace XraySynth.Gan.Import;

/// <summary>A Python tuple from a pickle (immutable, compared by value when used as a dict key).</summary>
public sealed record PyTuple(IReadOnlyList<object?> Items)
{
    /// <inheritdoc/>
    public bool Equals(PyTuple? other) =>
        other is not null && Items.Count == other.Items.Count
        && Items.Zip(other.Items).All(p => PyKeyComparer.Instance.Equals(p.First, p.Second));

    /// <inheritdoc/>
    public override int GetHashCode() => Items.Aggregate(Items.Count, (h, x) => HashCode.Combine(h, PyKeyComparer.Instance.GetHashCode(x!)));
}

/// <summary>A Python dict from a pickle: insertion-ordered, keys compared by value.</summary>
public sealed class PyDict
{
    private readonly Dictionary<object, object?> _items = new(PyKeyComparer.Instance);
    private readonly List<object> _order = [];

    /// <summary>Keys in insertion order.</summary>
    public IEnumerable<object> Keys => _order;

    /// <summary>Number of entries.</summary>
    public int Count => _order.Count;

    /// <summary>Sets <paramref name="key"/> (None keys are stored as <see cref="PyNone"/>).</summary>
    public void Set(object? key, object? value)
    {
        var k = key ?? PyNone.Value;
        if (!_items.ContainsKey(k))
            _order.Add(k);
        _items[k] = value;
    }

    /// <summary>The value of <paramref name="key"/>, or false when absent.</summary>
    public bool TryGet(object key, out object? value) => _items.TryGetValue(key, out value);

    /// <summary>The value of string key <paramref name="key"/>, or null when absent.</summary>
    public object? Get(string key) => _items.GetValueOrDefault(key);

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool Contains(string key) => _items.ContainsKey(key);

    /// <summary>Entries in insertion order.</summary>
    public IEnumerable<KeyValuePair<object, object?>> Entries => _order.Select(k => new KeyValuePair<object, object?>(k, _items[k]));
}

/// <summary>Python's None as a dict key (values use C# null).</summary>
public sealed class PyNone
{
    /// <summary>The one instance.</summary>
    public static readonly PyNone Value = new();

    private PyNone()
    {
    }
}

/// <summary>A Python set (or frozenset) from a pickle.</summary>
public sealed record PySet(List<object?> Items);

/// <summary>A global the unpickler knows (module.name), before it is called.</summary>
public sealed record PyGlobal(string Module, string Name)
{
    /// <summary>"module.name".</summary>
    public string FullName => Module + "." + Name;
}

internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => (x, y) switch
    {
        (null, null) => true,
        (long a, long b) => a == b,
        (bool a, bool b) => a == b,
        (long a, bool b) => a == (b ? 1 : 0),
        (bool a, long b) => (a ? 1 : 0) == b,
        (double a, double b) => a.Equals(b),
        _ => x is not null && x.Equals(y),
    };

    public int GetHashCode(object obj) => obj switch
    {
        bool b => (b ? 1L : 0L).GetHashCode(),
        _ => obj.GetHashCode(),
    };
}

/// <summary>What the unpickler does with the globals it knows: each returns the object a REDUCE/NEWOBJ builds.</summary>
internal interface IPickleGlobals
{
    /// <summary>Whether <paramref name="module"/>.<paramref name="name"/> is allowed; the unpickler refuses every other global.</summary>
    bool Knows(string module, string name);

    /// <summary>REDUCE: calls the global with positional arguments.</summary>
    object? Call(PyGlobal callable, IReadOnlyList<object?> args);

    /// <summary>NEWOBJ: cls.__new__(cls, *args).</summary>
    object? New(PyGlobal cls, IReadOnlyList<object?> args);

    /// <summary>BUILD: applies <paramref name="state"/> to <paramref name="obj"/>; returns the (possibly new) object.</summary>
    object? Build(object? obj, object? state);

    /// <summary>BINPERSID: resolves a persistent id.</summary>
    object? PersistentLoad(object? pid);
}

/// <summary>
/// A pickle reader that executes nothing: a small stack machine for the binary opcodes of protocols 2–5 that builds
/// plain values (None, bool, int, float, str, bytes, tuple, list, dict, set) and hands every global, call and
/// persistent id to an <see cref="IPickleGlobals"/> that knows a fixed list of names. Any other global, an unknown
/// opcode, a length that runs past the end of the data or a malformed stack is a <see cref="PickleRefusedException"/>.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private const int MaxMemo = 10_000_000;
    private static readonly object Mark = new();

    private readonly byte[] _data;
    private readonly IPickleGlobals _globals;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    /// <summary>Reads one pickle from <paramref name="data"/> starting at <paramref name="offset"/>.</summary>
    public RestrictedUnpickler(byte[] data, IPickleGlobals globals, int offset = 0)
    {
        _data = data;
        _globals = globals;
        _pos = offset;
    }

    /// <summary>Where the next pickle (or raw data) begins after <see cref="Load"/>.</summary>
    public int Position => _pos;

    /// <summary>Runs the pickle to its STOP opcode and returns the object it built.</summary>
    public object? Load()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        while (true)
        {
            var at = _pos;
            var op = ReadByte();
            if (op == (byte)'.')                                                                    // STOP
            {
                if (_stack.Count != 1 || _marks.Count != 0)
                    throw Refuse(at, "the pickle ends with a malformed stack");
                return _stack[0];
            }
            if (!(PushValue(op, at) || Collect(op, at) || Remember(op, at) || Construct(op, at)))
                throw Refuse(at, $"opcode 0x{op:x2} is not read (not a protocol 2-5 binary pickle of plain data)");
        }
    }

    /// <summary>Framing and the opcodes that push one plain value (None, bool, int, float, str, bytes); false for others.</summary>
    private bool PushValue(byte op, int at)
    {
        object? value;
        switch (op)
        {
            case 0x80: ReadByte(); return true;                                                      // PROTO
            case 0x95: ReadBytes(8); return true;                                                    // FRAME (a size hint)
            case (byte)'N': value = null; break;                                                     // NONE
            case 0x88: value = true; break;                                                          // NEWTRUE
            case 0x89: value = false; break;                                                         // NEWFALSE
            case (byte)'J': value = (long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)); break;  // BININT
            case (byte)'K': value = (long)ReadByte(); break;                                         // BININT1
            case (byte)'M': value = (long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)); break; // BININT2
            case 0x8a: value = Long(ReadBytes(ReadByte())); break;                                   // LONG1
            case 0x8b: value = Long(ReadBytes(Length(ReadInt32(), at, maxBytes: 1024))); break;      // LONG4
            case (byte)'G': value = BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)); break;       // BINFLOAT
            case 0x8c: value = Utf8(ReadBytes(ReadByte()), at); break;                               // SHORT_BINUNICODE
            case (byte)'X': value = Utf8(ReadBytes(Length(ReadInt32(), at)), at); break;            // BINUNICODE
            case 0x8d: value = Utf8(ReadBytes(Length(ReadInt64(), at)), at); break;                 // BINUNICODE8
            case (byte)'U': value = Latin1(ReadBytes(ReadByte())); break;                            // SHORT_BINSTRING
            case (byte)'T': value = Latin1(ReadBytes(Length(ReadInt32(), at))); break;              // BINSTRING
            case (byte)'C': value = ReadBytes(ReadByte()).ToArray(); break;                          // SHORT_BINBYTES
            case (byte)'B': value = ReadBytes(Length(ReadInt32(), at)).ToArray(); break;            // BINBYTES
            case 0x8e: value = ReadBytes(Length(ReadInt64(), at)).ToArray(); break;                 // BINBYTES8
            case 0x96: value = ReadBytes(Length(ReadInt64(), at)).ToArray(); break;                 // BYTEARRAY8
            default: return false;
        }
        _stack.Add(value);
        return true;
    }

    /// <summary>The stack and container opcodes: marks, tuples, lists, dicts, sets and adding to them; false for others.</summary>
    private bool Collect(byte op, int at)
    {
        switch (op)
        {
            case (byte)'(': _marks.Push(_stack.Count); _stack.Add(Mark); break;                       // MARK
            case (byte)'0': Pop(_stack, at); break;                                                  // POP
            case (byte)'1': PopMark(_stack, _marks, at); break;                                      // POP_MARK
            case (byte)'2': _stack.Add(Peek(_stack, at)); break;                                     // DUP
            case (byte)')': _stack.Add(new PyTuple([])); break;                                      // EMPTY_TUPLE
            case 0x85: _stack.Add(new PyTuple(PopN(_stack, 1, at))); break;                          // TUPLE1
            case 0x86: _stack.Add(new PyTuple(PopN(_stack, 2, at))); break;                          // TUPLE2
            case 0x87: _stack.Add(new PyTuple(PopN(_stack, 3, at))); break;                          // TUPLE3
            case (byte)'t': _stack.Add(new PyTuple(PopMark(_stack, _marks, at))); break;             // TUPLE
            case (byte)']': _stack.Add(new List<object?>()); break;                                  // EMPTY_LIST
            case (byte)'l': _stack.Add(PopMark(_stack, _marks, at)); break;                          // LIST
            case (byte)'}': _stack.Add(new PyDict()); break;                                         // EMPTY_DICT
            case (byte)'d': _stack.Add(ToDict(PopMark(_stack, _marks, at), at, "DICT")); break;      // DICT
            case 0x8f: _stack.Add(new PySet([])); break;                                             // EMPTY_SET
            case 0x91: _stack.Add(new PySet(PopMark(_stack, _marks, at))); break;                    // FROZENSET
            case (byte)'a':                                                                           // APPEND
                var item = Pop(_stack, at);
                As<List<object?>>(Peek(_stack, at), at, "APPEND").Add(item);
                break;
            case (byte)'e':                                                                           // APPENDS
                var items = PopMark(_stack, _marks, at);
                As<List<object?>>(Peek(_stack, at), at, "APPENDS").AddRange(items);
                break;
            case 0x90:                                                                                // ADDITEMS
                var members = PopMark(_stack, _marks, at);
                As<PySet>(Peek(_stack, at), at, "ADDITEMS").Items.AddRange(members);
                break;
            case (byte)'s':                                                                           // SETITEM
                var value = Pop(_stack, at);
                var key = Pop(_stack, at);
                As<PyDict>(Peek(_stack, at), at, "SETITEM").Set(key, value);
                break;
            case (byte)'u':                                                                           // SETITEMS
                var pairs = PopMark(_stack, _marks, at);
                var dict = As<PyDict>(Peek(_stack, at), at, "SETITEMS");
                if (pairs.Count % 2 != 0)
                    throw Refuse(at, "SETITEMS with an odd number of items");
                for (var i = 0; i < pairs.Count; i += 2)
                    dict.Set(pairs[i], pairs[i + 1]);
                break;
            default:
                return false;
        }
        return true;
    }

    /// <summary>The memo opcodes (store the top of the stack, push a stored value); false for others.</summary>
    private bool Remember(byte op, int at)
    {
        switch (op)
        {
            case 0x94: Memo(_memo, _memo.Count, Peek(_stack, at), at); break;                        // MEMOIZE
            case (byte)'q': Memo(_memo, ReadByte(), Peek(_stack, at), at); break;                    // BINPUT
            case (byte)'r': Memo(_memo, (uint)ReadInt32(), Peek(_stack, at), at); break;             // LONG_BINPUT
            case (byte)'h': _stack.Add(Recall(_memo, ReadByte(), at)); break;                        // BINGET
            case (byte)'j': _stack.Add(Recall(_memo, (uint)ReadInt32(), at)); break;                 // LONG_BINGET
            default: return false;
        }
        return true;
    }

    /// <summary>
    /// The opcodes that name a global, call it, build an object or load a persistent id: each goes to the
    /// <see cref="IPickleGlobals"/>, which knows a fixed list of names and runs nothing; false for other opcodes.
    /// </summary>
    private bool Construct(byte op, int at)
    {
        switch (op)
        {
            case (byte)'c':                                                                           // GLOBAL
                var module = ReadLine(at);
                _stack.Add(Global(module, ReadLine(at), at));
                break;
            case 0x93:                                                                                // STACK_GLOBAL
                var name = Pop(_stack, at) as string ?? throw Refuse(at, "STACK_GLOBAL without a name");
                var of = Pop(_stack, at) as string ?? throw Refuse(at, "STACK_GLOBAL without a module");
                _stack.Add(Global(of, name, at));
                break;
            case (byte)'R':                                                                           // REDUCE
                var args = As<PyTuple>(Pop(_stack, at), at, "REDUCE arguments");
                _stack.Add(_globals.Call(As<PyGlobal>(Pop(_stack, at), at, "REDUCE callable"), args.Items));
                break;
            case 0x81:                                                                                // NEWOBJ
                var newArgs = As<PyTuple>(Pop(_stack, at), at, "NEWOBJ arguments");
                _stack.Add(_globals.New(As<PyGlobal>(Pop(_stack, at), at, "NEWOBJ class"), newArgs.Items));
                break;
            case (byte)'b':                                                                           // BUILD
                var state = Pop(_stack, at);
                _stack.Add(_globals.Build(Pop(_stack, at), state));
                break;
            case (byte)'Q': _stack.Add(_globals.PersistentLoad(Pop(_stack, at))); break;             // BINPERSID
            default:
                return false;
        }
        return true;
    }

    private object Global(string module, string name, int at)
    {
        if (!_globals.Knows(module, name))
            throw new PickleRefusedException($"global '{module}.{name}' at byte {at} is not on the list of known names; nothing was run");
        return new PyGlobal(module, name);
    }

    private static void Memo(Dictionary<long, object?> memo, long index, object? value, int at)
    {
        if (memo.Count >= MaxMemo)
            throw Refuse(at, "too many memo entries");
        memo[index] = value;
    }

    private static object? Recall(Dictionary<long, object?> memo, long index, int at) =>
        memo.TryGetValue(index, out var value) ? value : throw Refuse(at, $"memo entry {index} is read before it is written");

    private static PyDict ToDict(List<object?> items, int at, string what)
    {
        if (items.Count % 2 != 0)
            throw Refuse(at, $"{what} with an odd number of items");
        var dict = new PyDict();
        for (var i = 0; i < items.Count; i += 2)
            dict.Set(items[i], items[i + 1]);
        return dict;
    }

    private static T As<T>(object? value, int at, string what) where T : class =>
        value as T ?? throw Refuse(at, $"{what} is a {value?.GetType().Name ?? "None"}, expected {typeof(T).Name}");

    private static object? Pop(List<object?> stack, int at)
    {
        if (stack.Count == 0 || ReferenceEquals(stack[^1], Mark))
            throw Refuse(at, "stack underflow");
        var value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private static object? Peek(List<object?> stack, int at) =>
        stack.Count == 0 || ReferenceEquals(stack[^1], Mark) ? throw Refuse(at, "stack underflow") : stack[^1];

    private static List<object?> PopN(List<object?> stack, int n, int at)
    {
        var items = new List<object?>(n);
        for (var i = 0; i < n; i++)
            items.Insert(0, Pop(stack, at));
        return items;
    }

    private static List<object?> PopMark(List<object?> stack, Stack<int> marks, int at)
    {
        if (marks.Count == 0)
            throw Refuse(at, "no MARK on the stack");
        var start = marks.Pop();
        var items = stack.GetRange(start + 1, stack.Count - start - 1);
        stack.RemoveRange(start, stack.Count - start);
        return items;
    }

    private byte ReadByte()
    {
        if (_pos >= _data.Length)
            throw Refuse(_pos, "the data ends inside the pickle (truncated file)");
        return _data[_pos++];
    }

    private ReadOnlySpan<byte> ReadBytes(int count)
    {
        if (count < 0 || count > _data.Length - _pos)
            throw Refuse(_pos, $"a {count}-byte field runs past the end of the data (truncated or damaged file)");
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private int ReadInt32() => BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4));

    private long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(ReadBytes(8));

    /// <summary>A length field, checked against what is left of the data before anything is allocated.</summary>
    private int Length(long length, int at, int maxBytes = int.MaxValue)
    {
        if (length < 0 || length > _data.Length - _pos || length > maxBytes)
            throw Refuse(at, $"a length of {length} bytes runs past the end of the data (truncated or damaged file)");
        return (int)length;
    }

    private string ReadLine(int at)
    {
        var end = Array.IndexOf(_data, (byte)'\n', _pos, Math.Min(256, _data.Length - _pos));
        if (end < 0)
            throw Refuse(at, "GLOBAL without a line end");
        var text = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return text;
    }

    private static object Long(ReadOnlySpan<byte> bytes)
    {
        var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (long)value : value;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes, int at)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Refuse(at, "a string is not valid UTF-8");
        }
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private static PickleRefusedException Refuse(int at, string why) => new($"{why} (byte {at})");
}
