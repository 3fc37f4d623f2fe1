using System.IO.Compression;

namespace XraySynth.Runtime;

/// <summary>
/// Checks a PyTorch zip archive (torch.save since PyTorch 1.6, or torch.jit.save) before PyBridge or libtorch opens it:
/// a readable zip whose entries are plain relative names under one top folder, unique, with sizes that agree with the
/// file (stored entries as long as their bytes, deflated ones within deflate's 1032:1 limit), a <c>data.pkl</c>, and
/// every pickle in it (<c>*.pkl</c>) naming only allowed globals (<see cref="PickleScanner"/>). A TorchScript archive
/// must also hold <c>version</c> (a small integer) and <c>code/</c>.
/// </summary>
public static class TorchArchive
{
    /// <summary>The largest pickle read from an archive for checking.</summary>
    public const long MaxPickleBytes = 256L * 1024 * 1024;

    /// <summary>Throws <see cref="PickleRefusedException"/> when a pickle names code (or cannot be scanned), <see cref="InvalidDataException"/>
    /// (message naming the file) when the archive is malformed.</summary>
    public static void Check(string path, bool torchScript)
    {
        var fileLength = new FileInfo(path).Length;
        ZipArchive zip;
        try
        {
            zip = ZipFile.OpenRead(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new InvalidDataException($"'{path}' is not a readable zip archive ({e.Message})", e);
        }
        using (zip)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            string? prefix = null;
            try
            {
                foreach (var entry in zip.Entries)
                {
                    var name = entry.FullName;
                    if (ZipEntryNames.Problem(name) is { } problem)
                        throw Bad(path, $"entry '{name}' has {problem}");
                    if (!names.Add(name)) throw Bad(path, $"entry '{name}' appears twice");
                    var top = name.Split('/')[0];
                    if (name.IndexOf('/') < 0 || (prefix ??= top) != top)
                        throw Bad(path, $"entry '{name}' is not under the archive's one top folder '{prefix ?? top}/'");
                    long stored = entry.CompressedLength, length = entry.Length;
                    if (stored < 0 || stored > fileLength || length < 0 || length > stored * 1032 + 1024)
                        throw Bad(path, $"entry '{name}' declares {length} bytes from {stored} stored bytes in a file of {fileLength}");
                }
                if (prefix is null) throw Bad(path, "the archive is empty");
                if (!names.Contains($"{prefix}/data.pkl")) throw Bad(path, $"it has no {prefix}/data.pkl, so it is not a torch.save or torch.jit.save archive");
                if (torchScript)
                {
                    if (!names.Any(n => n.StartsWith($"{prefix}/code/", StringComparison.Ordinal)))
                        throw Bad(path, "it has no code/ folder, so it is not a TorchScript archive (torch.jit.save)");
                    var versionName = names.Contains($"{prefix}/version") ? $"{prefix}/version" : $"{prefix}/.data/version";
                    var version = names.Contains(versionName) ? System.Text.Encoding.ASCII.GetString(Read(zip.GetEntry(versionName)!, 64, path)).Trim() : "";
                    if (!int.TryParse(version, out var v) || v is < 1 or > 64)
                        throw Bad(path, $"its version record is '{version}', not a TorchScript format version");
                }
                var allowed = torchScript ? PickleScanner.TorchScriptGlobals : PickleScanner.StateDictGlobals;
                foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".pkl", StringComparison.Ordinal)))
                {
                    var bytes = Read(entry, MaxPickleBytes, path);
                    PickleScanner.CheckGlobals(bytes, allowed, $"'{path}' ({entry.FullName})");
                }
            }
            catch (Exception e) when (e is IOException or NotSupportedException || (e is InvalidDataException && !e.Message.StartsWith('\'')))
            {
                throw Bad(path, $"it is damaged ({e.Message})");
            }
        }
    }

    private static InvalidDataException Bad(string path, string reason) => new($"'{path}' is not a valid PyTorch archive: {reason}");

    /// <summary>An entry's bytes, at most <paramref name="cap"/>, read through a bounded stream.</summary>
    private static byte[] Read(ZipArchiveEntry entry, long cap, string path)
    {
        if (entry.Length > cap) throw Bad(path, $"entry '{entry.FullName}' declares {entry.Length} bytes, over the limit of {cap}");
        using var s = entry.Open();
        var buffer = new byte[entry.Length];
        int total = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (total != buffer.Length || s.ReadByte() >= 0)
            throw Bad(path, $"entry '{entry.FullName}' does not hold the {entry.Length} bytes its header declares");
        return buffer;
    }
}
