namespace XraySynth.Runtime;

/// <summary>The one check of zip entry names that every zip reader applies (dataset zips, PyTorch archives).</summary>
public static class ZipEntryNames
{
    /// <summary>What makes a zip entry name unsafe (it could reach outside the folder it is extracted to or compare
    /// equal to another): an absolute path, a drive letter, a backslash, a '.', '..' or empty segment, a control
    /// character; null when it is a plain relative name.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0) return "an empty name";
        if (name.Contains('\\')) return "a backslash (a Windows path separator; zip names use '/')";
        if (name[0] == '/') return "an absolute path";
        if (name.Length >= 2 && name[1] == ':' && char.IsAsciiLetter(name[0])) return "a drive letter (an absolute Windows path)";
        if (name.Any(char.IsControl)) return "a control character";
        if (name.TrimEnd('/').Split('/').Any(seg => seg is "" or "." or "..")) return "a '.', '..' or empty path segment";
        return null;
    }
}
