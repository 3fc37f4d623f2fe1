using XraySynth.Runtime;
using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace XraySynth.Gan.Training;

/// <summary>
/// The record of every tick: its timing (the tick's seconds, seconds per kimg, maintenance between ticks), one line of
/// stats.jsonl, the TensorBoard scalars and the status line; and the session's means for the result.
/// </summary>
internal sealed class TickReporter
{
    private readonly RunFolder _run;
    private readonly Action<string> _say;
    private readonly long _totalNimg;
    private readonly bool _plMean;
    private readonly SummaryWriter _tensorboard;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<double> _sessionSecPerKimg = [];
    private readonly Dictionary<LossPhase, double> _sessionPhaseSec = [];
    private long _tickStartNimg;
    private double _tickStartTime;
    private double _maintenance;
    private int _ticksThisSession;

    /// <summary>A tick that has ended: when, how long it trained, how many images.</summary>
    public readonly record struct EndedTick(double End, double Seconds, long Images);

    public TickReporter(RunFolder run, Action<string> say, long curNimg, long totalNimg, bool plMean)
    {
        _run = run;
        _say = say;
        _totalNimg = totalNimg;
        _plMean = plMean;
        _tickStartNimg = curNimg;
        _tensorboard = torch.utils.tensorboard.SummaryWriter(run.Path);
    }

    /// <summary>Seconds since this session started.</summary>
    public double Elapsed => _clock.Elapsed.TotalSeconds;

    /// <summary>Whether the tick that has run since the last one ended is complete (the first after one minibatch).</summary>
    public bool TickEnds(long curNimg, long curTick, double kimgPerTick) =>
        curTick == 0 || curNimg >= _tickStartNimg + kimgPerTick * 1000;

    /// <summary>Whether a tick other than this session's first has been written (the first includes start-up).</summary>
    public bool PastFirstTick => _ticksThisSession > 1;

    /// <summary>Ends the current tick: its end time and training seconds.</summary>
    public EndedTick End(long curNimg)
    {
        var end = _clock.Elapsed.TotalSeconds;
        return new EndedTick(end, end - _tickStartTime, curNimg - _tickStartNimg);
    }

    /// <summary>
    /// Writes the tick's record: stats.jsonl, TensorBoard and the status line. <paramref name="values"/> are the
    /// tick's loss statistics, <paramref name="phaseSec"/> its seconds per phase, <paramref name="fd8"/> the quality
    /// figure of a snapshot tick.
    /// </summary>
    public void Write(GanRunState s, EndedTick tick, Dictionary<string, double> values, Dictionary<LossPhase, double> phaseSec,
        double? fd8, int fd8Samples)
    {
        var secPerKimg = tick.Seconds / Math.Max(1, tick.Images) * 1000;
        var tickImages = Math.Max(1, tick.Images);
        if (_ticksThisSession++ > 0)
        {
            _sessionSecPerKimg.Add(secPerKimg); // the first tick of a session includes start-up
            foreach (var (ph, sec) in phaseSec)
                _sessionPhaseSec[ph] = _sessionPhaseSec.GetValueOrDefault(ph) + sec / tickImages * 1000;
        }
        var record = Record(s, tick, values, secPerKimg, fd8, fd8Samples) with
        {
            PhaseSecPerKimg = phaseSec.ToDictionary(kv => kv.Key.ToString(), kv => Math.Round(kv.Value / tickImages * 1000, 4)),
        };
        _run.AppendStats(record);
        WriteTensorBoard(record, values);
        _say(StatusLine(record));
    }

    private GanTickStats Record(GanRunState s, EndedTick tick, Dictionary<string, double> values, double secPerKimg,
        double? fd8, int fd8Samples) => new()
    {
        Tick = s.CurTick,
        Kimg = s.CurNimg / 1000.0,
        Timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
        TotalSec = s.PriorSeconds + tick.End,
        SecPerTick = tick.Seconds,
        SecPerKimg = secPerKimg,
        MaintenanceSec = _maintenance,
        CpuMemGb = Process.GetCurrentProcess().WorkingSet64 / (double)(1L << 30),
        AugmentP = s.AugmentP,
        AdaRt = s.Ada?.LastRt,
        LossG = Mean(values, "Loss/G/loss"),
        LossD = Mean(values, "Loss/D/loss"),
        LossGReg = Mean(values, "Loss/G/reg"),
        LossDReg = Mean(values, "Loss/D/reg"),
        R1Penalty = Mean(values, "Loss/r1_penalty"),
        PlPenalty = Mean(values, "Loss/pl_penalty"),
        PlMean = _plMean ? s.Loss.PlMean.item<float>() : null,
        ScoresReal = Mean(values, "Loss/scores/real"),
        ScoresFake = Mean(values, "Loss/scores/fake"),
        SignsReal = Mean(values, "Loss/signs/real"),
        SignsFake = Mean(values, "Loss/signs/fake"),
        Fd8 = fd8,
        Fd8Samples = fd8 is null ? null : fd8Samples,
    };

    /// <summary>Starts the next tick at <paramref name="curNimg"/>; the time since <paramref name="ended"/> is maintenance.</summary>
    public void StartNext(EndedTick ended, long curNimg)
    {
        _tickStartNimg = curNimg;
        _tickStartTime = _clock.Elapsed.TotalSeconds;
        _maintenance = _tickStartTime - ended.End;
    }

    /// <summary>Marks the run done in TensorBoard.</summary>
    public void Done(long curNimg) => _tensorboard.add_text("status", "done", (int)(curNimg / 1000));

    /// <summary>Mean seconds per kimg of this session's ticks after its first, or null.</summary>
    public double? MeanSecPerKimg => _sessionSecPerKimg.Count > 0 ? _sessionSecPerKimg.Average() : null;

    /// <summary>Mean seconds per kimg of each phase over the ticks after the first, or null.</summary>
    public Dictionary<string, double>? MeanPhaseSecPerKimg => _sessionSecPerKimg.Count > 0
        ? _sessionPhaseSec.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value / _sessionSecPerKimg.Count) : null;

    private static double? Mean(Dictionary<string, double> values, string name) =>
        values.TryGetValue(name, out var v) && double.IsFinite(v) ? v : null;

    private string StatusLine(GanTickStats s)
    {
        var eta = s.SecPerKimg * (_totalNimg / 1000.0 - s.Kimg);
        var parts = new List<string>
        {
            $"tick {s.Tick}",
            $"kimg {s.Kimg:F3}",
            $"sec/kimg {s.SecPerKimg:F2}",
            $"ETA {TimeSpan.FromSeconds(Math.Max(0, eta)):d\\.hh\\:mm\\:ss}",
            $"augment {s.AugmentP:F4}" + (s.AdaRt is { } rt ? $" (r_t {rt:F3})" : ""),
        };
        void Add(string label, double? value)
        {
            if (value is { } v)
                parts.Add($"{label} {v:F4}");
        }
        Add("G", s.LossG);
        Add("D", s.LossD);
        Add("R1", s.R1Penalty);
        Add("PL", s.PlPenalty);
        Add("FD8", s.Fd8);
        parts.Add($"cpumem {s.CpuMemGb:F2} GiB");
        return string.Join("  ", parts);
    }

    private void WriteTensorBoard(GanTickStats s, Dictionary<string, double> values)
    {
        var tb = _tensorboard;
        var step = (int)Math.Floor(s.Kimg);
        foreach (var (name, value) in values)
        {
            if (double.IsFinite(value))
                tb.add_scalar(name, (float)value, step);
        }
        tb.add_scalar("Progress/augment", (float)s.AugmentP, step);
        if (s.AdaRt is { } rt)
            tb.add_scalar("Progress/ada_rt", (float)rt, step);
        tb.add_scalar("Timing/sec_per_kimg", (float)s.SecPerKimg, step);
        tb.add_scalar("Resources/cpu_mem_gb", (float)s.CpuMemGb, step);
        if (s.PlMean is { } pl)
            tb.add_scalar("Loss/pl_mean", (float)pl, step);
        if (s.Fd8 is { } fd)
            tb.add_scalar("Metrics/fd8", (float)fd, step);
    }
}
