namespace XraySynth.Data;

/// <summary>The splits of a prepared dataset. MURA's <c>valid/</c> is <see cref="Test"/>; <see cref="Val"/> is cut
/// from MURA's <c>train/</c> by patient.</summary>
public enum DataSplit
{
    Train,
    Val,
    Test,
}

/// <summary>Cuts a validation set from MURA's training images <b>by patient</b>: every image of a patient lands in
/// the same split, so no patient leaks between train and validation. Patients are stratified by study type and by
/// whether they have an abnormal study, so both splits keep the label balance.</summary>
public static class PatientSplit
{
    /// <summary>The patients (of <paramref name="trainImages"/>) that form the validation set.</summary>
    public static HashSet<string> ValidationPatients(IEnumerable<MuraImage> trainImages, double fraction, int seed)
    {
        if (fraction is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(fraction), "validation fraction must be in [0, 1)");
        var patients = trainImages
            .GroupBy(i => i.Patient, StringComparer.Ordinal)
            .Select(g => (Patient: g.Key,
                          Stratum: string.Join('+', g.Select(i => i.Part).Distinct().Order(StringComparer.Ordinal))
                                   + (g.Any(i => i.Label == 1) ? ":abnormal" : ":normal")))
            .OrderBy(p => p.Patient, StringComparer.Ordinal)
            .ToList();
        var val = new HashSet<string>(StringComparer.Ordinal);
        if (fraction == 0) return val;
        var rng = new Random(seed);
        foreach (var stratum in patients.GroupBy(p => p.Stratum, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = stratum.Select(p => p.Patient).ToArray();
            rng.Shuffle(members);
            int take = (int)Math.Round(members.Length * fraction, MidpointRounding.AwayFromZero);
            foreach (var p in members.Take(take)) val.Add(p);
        }
        return val;
    }

    public static DataSplit SplitOf(MuraImage image, HashSet<string> validationPatients) =>
        image.Split == MuraSplit.Valid ? DataSplit.Test
        : validationPatients.Contains(image.Patient) ? DataSplit.Val
        : DataSplit.Train;
}
