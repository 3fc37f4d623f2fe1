using System.Buffers.Binary;
using System.Text;

namespace XraySynth.Runtime;

/// <summary>A pickle names code outside an allowlist, or holds something the readers will not read (<see cref="PickleScanner"/>,
/// the network-pickle reader in Gan/Import): it is refused before anything uses it; the message says what and where.</summary>
public sealed class PickleRefusedException(string message) : InputException(message)
{
}

/// <summary>
/// Walks a pickle's opcodes without executing any (all protocols 0–5) and collects every global it names: the
/// targets of GLOBAL, INST and STACK_GLOBAL, the only ways a pickle reaches code that REDUCE, NEWOBJ, OBJ and BUILD can
/// call. Like PyTorch's <c>weights_only</c> unpickler, a file is accepted only when every global is on an allowlist:
/// <see cref="StateDictGlobals"/> for torch.save state_dicts, <see cref="TorchScriptGlobals"/> for torch.jit.save
/// archives. Extension-registry opcodes (EXT1/2/4) and STACK_GLOBALs whose operands are not plain strings are refused.
/// </summary>
public static class PickleScanner
{
    /// <summary>What a torch.save state_dict may name: its containers, tensor and parameter rebuilds, typed storages.</summary>
    public static Func<string, bool> StateDictGlobals { get; } = IsStateDictGlobal;

    /// <summary>What a TorchScript archive's data.pkl / constants.pkl may name: the state_dict globals, the archive's own
    /// compiled module classes (<c>__torch__.*</c>, whose code libtorch compiles from TorchScript, not Python) and
    /// TorchScript's list builders (<c>torch.jit._pickle.*</c>).</summary>
    public static Func<string, bool> TorchScriptGlobals { get; } = name =>
        IsStateDictGlobal(name)
        || name.StartsWith("__torch__.", StringComparison.Ordinal)
        || name is "torch.jit._pickle.build_intlist" or "torch.jit._pickle.build_tensorlist" or "torch.jit._pickle.build_doublelist"
            or "torch.jit._pickle.build_boollist" or "torch.jit._pickle.build_tensor_from_id" or "torch.jit._pickle.restore_type_tag";

    private static readonly HashSet<string> StorageTypes =
    [
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "ShortStorage",
        "CharStorage", "ByteStorage", "BoolStorage",
    ];

    private static bool IsStateDictGlobal(string name)
    {
        if (name is "collections.OrderedDict" or "torch._utils._rebuild_tensor" or "torch._utils._rebuild_tensor_v2"
            or "torch._utils._rebuild_parameter" or "torch._utils._rebuild_parameter_with_state" or "_codecs.encode")
            return true;
        var dot = name.LastIndexOf('.');
        return dot > 0 && name[..dot] is "torch" or "torch.cuda" && StorageTypes.Contains(name[(dot + 1)..]);
    }

    /// <summary>The globals ("module.name") of the pickle starting at <paramref name="data"/>[0], in order, and the
    /// length of the pickle (up to and including STOP).</summary>
    /// <exception cref="PickleRefusedException">An opcode that is not a pickle's, a truncated pickle, an extension
    /// code, or a STACK_GLOBAL whose target cannot be read.</exception>
    public static (List<string> Globals, int Length) Globals(ReadOnlySpan<byte> data)
    {
        var globals = new List<string>();
        // The last values pushed, as far as STACK_GLOBAL needs them (a string, or null for anything else), and the memo.
        var recent = new List<string?>();
        var memo = new Dictionary<long, string?>();
        int pos = 0;
        while (true)
        {
            if (pos >= data.Length) throw new PickleRefusedException($"the pickle ends at byte {pos} without STOP (truncated)");
            byte op = data[pos++];
            switch (op)
            {
                case (byte)'.':                                                         // STOP
                    return (globals, pos);
                case (byte)'c':                                                         // GLOBAL module\nname\n
                case (byte)'i':                                                         // INST module\nname\n
                {
                    var module = Line(data, ref pos);
                    var name = Line(data, ref pos);
                    globals.Add($"{module}.{name}");
                    Push(recent, null);
                    break;
                }
                case 0x93:                                                              // STACK_GLOBAL
                {
                    if (recent.Count < 2 || recent[^1] is not { } name || recent[^2] is not { } module)
                        throw new PickleRefusedException($"STACK_GLOBAL at byte {pos - 1} takes its target from values that are not plain strings");
                    globals.Add($"{module}.{name}");
                    recent.Clear();
                    Push(recent, null);
                    break;
                }
                case 0x82: case 0x83: case 0x84:                                        // EXT1, EXT2, EXT4
                    throw new PickleRefusedException($"extension-registry opcode at byte {pos - 1} (it names code indirectly)");

                default:
                    if (!StringOrMemo(op, data, ref pos, recent, memo) && !OtherOpcode(op, data, ref pos, recent))
                        throw new PickleRefusedException($"byte {pos - 1} holds 0x{op:x2}, not a pickle opcode (a damaged or foreign file)");
                    break;
            }
        }
    }

    /// <summary>The string and memo opcodes: what STACK_GLOBAL may take its operands from (a string pushed directly or
    /// recalled from the memo); false for other opcodes.</summary>
    private static bool StringOrMemo(byte op, ReadOnlySpan<byte> data, ref int pos, List<string?> recent, Dictionary<long, string?> memo)
    {
        switch (op)
        {
            // Strings (the operands STACK_GLOBAL may use).
            case (byte)'X': Push(recent, Utf8(Take(data, ref pos, U32(data, ref pos)))); break;     // BINUNICODE
            case 0x8c: Push(recent, Utf8(Take(data, ref pos, U8(data, ref pos)))); break;           // SHORT_BINUNICODE
            case 0x8d: Push(recent, Utf8(Take(data, ref pos, U64(data, ref pos)))); break;          // BINUNICODE8
            case (byte)'V': Push(recent, Line(data, ref pos)); break;                               // UNICODE
            case (byte)'S': Push(recent, Line(data, ref pos).Trim('\'', '"')); break;               // STRING
            case (byte)'T': Take(data, ref pos, U32(data, ref pos)); Push(recent, null); break;      // BINSTRING
            case (byte)'U': Take(data, ref pos, U8(data, ref pos)); Push(recent, null); break;       // SHORT_BINSTRING

            // Memo: PUT copies the top value, GET pushes it back.
            case (byte)'p': memo[ParseLong(Line(data, ref pos), pos)] = Top(recent); break;         // PUT
            case (byte)'q': memo[U8(data, ref pos)] = Top(recent); break;                           // BINPUT
            case (byte)'r': memo[U32(data, ref pos)] = Top(recent); break;                          // LONG_BINPUT
            case 0x94: memo[memo.Count] = Top(recent); break;                                       // MEMOIZE
            case (byte)'g': Push(recent, memo.GetValueOrDefault(ParseLong(Line(data, ref pos), pos))); break;  // GET
            case (byte)'h': Push(recent, memo.GetValueOrDefault(U8(data, ref pos))); break;         // BINGET
            case (byte)'j': Push(recent, memo.GetValueOrDefault(U32(data, ref pos))); break;        // LONG_BINGET
            default: return false;
        }
        return true;
    }

    /// <summary>Every other opcode of protocols 0–5: its argument is skipped and the top value is no known string; false
    /// for a byte that is no opcode.</summary>
    private static bool OtherOpcode(byte op, ReadOnlySpan<byte> data, ref int pos, List<string?> recent)
    {
        switch (op)
        {
            // Other values with an argument.
            case (byte)'I': case (byte)'L': case (byte)'F': Line(data, ref pos); Push(recent, null); break;   // INT LONG FLOAT
            case (byte)'P': Line(data, ref pos); Push(recent, null); break;                         // PERSID
            case (byte)'J': Take(data, ref pos, 4); Push(recent, null); break;                      // BININT
            case (byte)'K': Take(data, ref pos, 1); Push(recent, null); break;                      // BININT1
            case (byte)'M': Take(data, ref pos, 2); Push(recent, null); break;                      // BININT2
            case (byte)'G': Take(data, ref pos, 8); Push(recent, null); break;                      // BINFLOAT
            case 0x8a: Take(data, ref pos, U8(data, ref pos)); Push(recent, null); break;           // LONG1
            case 0x8b: Take(data, ref pos, U32(data, ref pos)); Push(recent, null); break;          // LONG4
            case (byte)'B': Take(data, ref pos, U32(data, ref pos)); Push(recent, null); break;     // BINBYTES
            case (byte)'C': Take(data, ref pos, U8(data, ref pos)); Push(recent, null); break;      // SHORT_BINBYTES
            case 0x8e: case 0x96: Take(data, ref pos, U64(data, ref pos)); Push(recent, null); break; // BINBYTES8, BYTEARRAY8
            case 0x80: Take(data, ref pos, 1); break;                                               // PROTO
            case 0x95: Take(data, ref pos, 8); break;                                               // FRAME

            // Opcodes without an argument.
            case (byte)'N': case 0x88: case 0x89: case (byte)')': case (byte)']': case (byte)'}': case 0x8f:
                Push(recent, null); break;                       // NONE NEWTRUE NEWFALSE EMPTY_TUPLE/LIST/DICT/SET
            case (byte)'2':                                      // DUP
                Push(recent, Top(recent)); break;
            case (byte)'(': case (byte)'0': case (byte)'1': case (byte)'Q': case (byte)'R': case (byte)'a':
            case (byte)'b': case (byte)'d': case (byte)'e': case (byte)'l': case (byte)'o': case (byte)'s':
            case (byte)'t': case (byte)'u': case 0x81: case 0x85: case 0x86: case 0x87: case 0x90: case 0x91:
            case 0x92: case 0x97: case 0x98:
                // MARK POP POP_MARK BINPERSID REDUCE APPEND BUILD DICT APPENDS LIST OBJ SETITEM TUPLE SETITEMS
                // NEWOBJ TUPLE1-3 ADDITEMS FROZENSET NEWOBJ_EX NEXT_BUFFER READONLY_BUFFER: the stack changes in
                // ways not tracked here, so no string is known to be on top.
                recent.Clear();
                Push(recent, null);
                break;
            default: return false;
        }
        return true;
    }

    /// <summary>Refuses the pickle unless every global it names passes <paramref name="allowed"/>; returns its length.</summary>
    /// <param name="what">What the pickle is, for the message (e.g. "'x.pth' (data.pkl)").</param>
    public static int CheckGlobals(ReadOnlySpan<byte> data, Func<string, bool> allowed, string what)
    {
        var (globals, length) = Scan(data, what);
        var forbidden = globals.Where(g => !allowed(g)).Distinct().ToList();
        if (forbidden.Count > 0)
            throw new PickleRefusedException(
                $"{what} references code outside the allowed tensor and storage rebuild globals " +
                $"({string.Join(", ", forbidden.Take(5))}{(forbidden.Count > 5 ? ", ..." : "")}); it was not loaded, because " +
                "unpickling it could run that code. fix: use a file that holds only weights (a state_dict saved with " +
                "torch.save(model.state_dict(), path), or .safetensors) from a source you trust.");
        return length;
    }

    private static (List<string>, int) Scan(ReadOnlySpan<byte> data, string what)
    {
        try
        {
            return Globals(data);
        }
        catch (PickleRefusedException e)
        {
            throw new PickleRefusedException($"{what} is not a pickle this tool can check: {e.Message}. It was not loaded.");
        }
    }

    private static void Push(List<string?> recent, string? value)
    {
        if (recent.Count == 2) recent.RemoveAt(0);
        recent.Add(value);
    }

    private static string? Top(List<string?> recent) => recent.Count > 0 ? recent[^1] : null;

    private static string Line(ReadOnlySpan<byte> data, ref int pos)
    {
        var end = data[pos..].IndexOf((byte)'\n');
        if (end < 0) throw new PickleRefusedException($"a text argument at byte {pos} has no end of line (truncated)");
        var text = Encoding.Latin1.GetString(data.Slice(pos, end));
        pos += end + 1;
        return text;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> data, ref int pos, long count)
    {
        if (count < 0 || count > data.Length - pos)
            throw new PickleRefusedException($"an argument at byte {pos} claims {count} bytes, past the end of the pickle");
        var slice = data.Slice(pos, (int)count);
        pos += (int)count;
        return slice;
    }

    private static byte U8(ReadOnlySpan<byte> data, ref int pos) => Take(data, ref pos, 1)[0];

    private static uint U32(ReadOnlySpan<byte> data, ref int pos) => BinaryPrimitives.ReadUInt32LittleEndian(Take(data, ref pos, 4));

    private static long U64(ReadOnlySpan<byte> data, ref int pos)
    {
        var v = BinaryPrimitives.ReadUInt64LittleEndian(Take(data, ref pos, 8));
        return v > int.MaxValue ? -1 : (long)v;
    }

    private static long ParseLong(string text, int pos) =>
        long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? v : throw new PickleRefusedException($"a memo index before byte {pos} is not a number");

    private static string? Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
