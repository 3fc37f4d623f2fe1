namespace XraySynth.Data;

/// <summary>MURA's two public splits. <c>valid/</c> is our held-out test set.</summary>
public enum MuraSplit
{
    Train,
    Valid,
}

/// <summary>One radiograph of the catalogue.</summary>
/// <param name="RelativePath">Path relative to the dataset folder, '/'-separated: <c>train/XR_SHOULDER/patient00001/study1_positive/image1.png</c>.</param>
/// <param name="FullPath">Absolute path on disk.</param>
/// <param name="Split">MURA split the image comes from.</param>
/// <param name="Part">Study type in lower case without the XR_ prefix: <c>shoulder</c>.</param>
/// <param name="Patient">Patient folder name: <c>patient00001</c>.</param>
/// <param name="Study">Unique study id: <c>train/XR_SHOULDER/patient00001/study1_positive</c>.</param>
/// <param name="Label">1 positive (abnormal), 0 negative (normal).</param>
public sealed record MuraImage(string RelativePath, string FullPath, MuraSplit Split, string Part, string Patient, string Study, int Label);

/// <summary>Something in the input that was skipped (or, with --strict, was fatal): the file (with line where it
/// applies) and what is wrong with it.</summary>
public sealed record InputProblem(string File, string Problem);

/// <summary>The seven MURA study types and the parsing of MURA's path convention.</summary>
public static class MuraPaths
{
    public static readonly IReadOnlyList<string> Parts = ["elbow", "finger", "forearm", "hand", "humerus", "shoulder", "wrist"];

    /// <summary>Parses a path relative to the dataset folder (<c>split/XR_PART/patientNNNNN/studyN_label/file</c>).
    /// Returns null and a reason when it does not follow the convention.</summary>
    public static (MuraSplit Split, string Part, string Patient, string Study, int Label)? Parse(string relativePath, out string? reason)
    {
        reason = null;
        var seg = relativePath.Split('/');
        if (seg.Length != 5)
        {
            reason = $"expected split/XR_PART/patientNNNNN/studyN_positive|negative/image.png, got '{relativePath}'";
            return null;
        }
        MuraSplit split;
        if (seg[0] == "train") split = MuraSplit.Train;
        else if (seg[0] == "valid") split = MuraSplit.Valid;
        else { reason = $"split folder must be 'train' or 'valid', got '{seg[0]}'"; return null; }

        if (!seg[1].StartsWith("XR_", StringComparison.Ordinal) || !Parts.Contains(seg[1][3..].ToLowerInvariant()))
        {
            reason = $"study type folder must be one of XR_{string.Join("|XR_", Parts.Select(p => p.ToUpperInvariant()))}, got '{seg[1]}'";
            return null;
        }
        if (!IsPatient(seg[2]))
        {
            reason = $"patient folder must be 'patient' + digits, got '{seg[2]}'";
            return null;
        }
        var label = StudyLabel(seg[3]);
        if (label is null)
        {
            reason = $"study folder must end in _positive or _negative, got '{seg[3]}'";
            return null;
        }
        return (split, seg[1][3..].ToLowerInvariant(), seg[2], string.Join('/', seg[..4]), label.Value);
    }

    /// <summary>1 for <c>studyN_positive</c>, 0 for <c>studyN_negative</c>, null otherwise.</summary>
    public static int? StudyLabel(string studyFolder)
    {
        if (!studyFolder.StartsWith("study", StringComparison.Ordinal)) return null;
        if (studyFolder.EndsWith("_positive", StringComparison.Ordinal)) return 1;
        if (studyFolder.EndsWith("_negative", StringComparison.Ordinal)) return 0;
        return null;
    }

    private static bool IsPatient(string s) =>
        s.Length > 7 && s.StartsWith("patient", StringComparison.Ordinal) && s.AsSpan(7).IndexOfAnyExceptInRange('0', '9') < 0;
}
