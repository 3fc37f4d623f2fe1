using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;
using XraySynth.Runtime;

namespace XraySynth.Cli.Rendering;

/// <summary>Renders Core's <see cref="ProgressInfo"/> reports: a live bar (rate, ETA) on an interactive terminal,
/// plain throttled lines otherwise (logs, CI, tests).</summary>
public static class ProgressRenderer
{
    public static T Run<T>(TextWriter output, string title, Func<IProgress<ProgressInfo>, T> work)
    {
        bool terminal = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        if (!terminal) return work(new LineProgress(output, title));
        T result = default!;
        var units = new Dictionary<int, string>();      // task id -> unit ("img", "B", ...)
        string UnitOf(ProgressTask task) { lock (units) return units.GetValueOrDefault(task.Id, "img"); }
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new CountColumn(UnitOf),
                     new RateColumn(UnitOf), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var tasks = new Dictionary<string, ProgressTask>();
                var progress = new SyncProgress(info =>
                {
                    lock (tasks)
                    {
                        if (!tasks.TryGetValue(info.Stage, out var task))
                        {
                            tasks[info.Stage] = task = ctx.AddTask(info.Stage == title ? title : $"{title}: {info.Stage}", maxValue: Math.Max(1, info.Total));
                            lock (units) units[task.Id] = info.Unit;
                        }
                        task.MaxValue = Math.Max(1, info.Total);
                        task.Value = info.Done;
                    }
                });
                result = work(progress);
            });
        return result;
    }

    /// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool and reorder).</summary>
    private sealed class SyncProgress(Action<ProgressInfo> report) : IProgress<ProgressInfo>
    {
        public void Report(ProgressInfo value) => report(value);
    }

    /// <summary>A line per 10% or per 10 s, whichever comes first, and one at the end of each stage. Rates count from
    /// the end of the previous stage (or the start).</summary>
    private sealed class LineProgress(TextWriter output, string title) : IProgress<ProgressInfo>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _gate = new();
        private double _stageStart;
        private double _lastPrint = double.NegativeInfinity;
        private double _lastReport;
        private long _lastDone = -1;
        private string _stage = "";

        public void Report(ProgressInfo p)
        {
            lock (_gate)
            {
                double now = _clock.Elapsed.TotalSeconds;
                if (p.Stage != _stage)
                {
                    _stageStart = _stage.Length == 0 ? 0 : _lastReport;
                    _stage = p.Stage;
                    _lastDone = -1;
                    _lastPrint = double.NegativeInfinity;
                }
                _lastReport = now;
                bool due = p.Done == p.Total || now - _lastPrint >= 10 || _lastDone < 0 || (p.Done - _lastDone) * 10 >= p.Total;
                if (!due || p.Done == _lastDone) return;
                double t = now - _stageStart;
                double rate = t > 0.05 ? p.Done / t : 0;
                var speed = rate > 0 ? $", {Amount(rate, p.Unit)}/s" : "";
                var eta = rate > 0 && p.Done < p.Total ? $", ETA {TimeSpan.FromSeconds((p.Total - p.Done) / rate):hh\\:mm\\:ss}" : "";
                var stage = p.Stage == title ? title : $"{title}: {p.Stage}";
                var count = p.Unit == Bytes ? $"{Amount(p.Done, p.Unit)}/{Amount(p.Total, p.Unit)}" : $"{p.Done}/{p.Total} {p.Unit}";
                output.WriteLine($"{stage} {count} ({100.0 * p.Done / Math.Max(1, p.Total):F0}%){speed}{eta}");
                _lastPrint = now;
                _lastDone = p.Done;
            }
        }
    }

    /// <summary>The unit of byte counts (downloads), shown in MB.</summary>
    private const string Bytes = "B";

    private static string Amount(double value, string unit) =>
        unit == Bytes ? $"{value / 1e6:F1} MB" : $"{value:F1} {unit}";

    private sealed class CountColumn(Func<ProgressTask, string> unitOf) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(unitOf(task) == Bytes ? $"{task.Value / 1e6:F1}/{task.MaxValue / 1e6:F1} MB" : $"{task.Value:F0}/{task.MaxValue:F0}");
    }

    private sealed class RateColumn(Func<ProgressTask, string> unitOf) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(task.Speed is { } s ? $"{Amount(s, unitOf(task))}/s" : "", new Style(Color.Grey));
    }
}
