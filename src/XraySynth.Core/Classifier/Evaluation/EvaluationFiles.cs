using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using XraySynth.Data;
using XraySynth.Runtime;

namespace XraySynth.Classifier.Evaluation;

/// <summary>The evaluation's files in a run folder: <c>metrics.json</c> (an <see cref="EvaluationReport"/>) and
/// <c>predictions.csv</c> (one <see cref="ImagePrediction"/> per row, header <c>path,study,label,probability</c>),
/// both written atomically (temporary file, then rename).</summary>
public static class EvaluationFiles
{
    public const string MetricsFileName = "metrics.json";
    public const string PredictionsFileName = "predictions.csv";
    public static readonly string[] PredictionsHeader = ["path", "study", "label", "probability"];

    /// <summary>XraySynth's JSON conventions (camelCase, indented) plus: an undefined number (NaN, ±∞) is written as
    /// null and read back as NaN, since JSON has no NaN.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(Json.Options) { Converters = { new UndefinedAsNullConverter() } };

    public static void WriteMetrics(string path, EvaluationReport report) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, JsonOptions) + "\n");

    /// <summary>Reads a <c>metrics.json</c>; a missing or malformed file is a <see cref="DataException"/>.</summary>
    public static EvaluationReport ReadMetrics(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: metrics file not found.");
        try
        {
            return JsonSerializer.Deserialize<EvaluationReport>(File.ReadAllText(path), JsonOptions)
                ?? throw new DataException($"{path}: empty metrics file.");
        }
        catch (JsonException e)
        {
            throw new DataException($"{path}: not a metrics file ({e.Message}).");
        }
    }

    /// <summary>Writes the predictions, probabilities in round-trip precision.</summary>
    public static void WritePredictions(string path, IEnumerable<ImagePrediction> predictions) => AtomicFile.Write(path, stream =>
    {
        using var csv = Csv.Writer(stream);
        foreach (var h in PredictionsHeader) csv.WriteField(h);
        csv.NextRecord();
        foreach (var p in predictions)
        {
            csv.WriteField(p.Path);
            csv.WriteField(p.Study);
            csv.WriteField(p.Label.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(p.Probability.ToString("R", CultureInfo.InvariantCulture));
            csv.NextRecord();
        }
    });

    /// <summary>Reads a <c>predictions.csv</c>; a malformed row is a <see cref="DataException"/> naming file and line.</summary>
    public static List<ImagePrediction> ReadPredictions(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: predictions file not found.");
        using var csv = Csv.Open(path);
        if (!csv.Read() || !csv.ReadHeader() || !PredictionsHeader.All(h => csv.HeaderRecord!.Contains(h)))
            throw new DataException($"{path}: not a predictions file (expected the header '{string.Join(",", PredictionsHeader)}').");
        var rows = new List<ImagePrediction>();
        while (csv.Read())
        {
            var file = csv.GetField("path");
            var study = csv.GetField("study");
            var label = csv.GetField("label");
            bool probabilityOk = double.TryParse(csv.GetField("probability"), NumberStyles.Float, CultureInfo.InvariantCulture, out var p)
                && p >= 0 && p <= 1;
            if (string.IsNullOrEmpty(file) || string.IsNullOrEmpty(study) || label is not ("0" or "1") || !probabilityOk)
                throw new DataException($"{path}:{csv.Parser.RawRow}: malformed row (path and study must be set, label 0 or 1, " +
                    $"probability in [0, 1]): '{csv.Parser.RawRecord.Trim()}'");
            rows.Add(new ImagePrediction(file, study, label == "1" ? 1 : 0, p));
        }
        return rows;
    }

    /// <summary>JSON has no NaN or infinity: write them as null, read null as NaN.</summary>
    private sealed class UndefinedAsNullConverter : JsonConverter<double>
    {
        public override bool HandleNull => true;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
