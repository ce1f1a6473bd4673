using System.Diagnostics.Metrics;
using Flare.Web.Gateway;

namespace Flare.Web.Traffic;

/// <summary>One second of traffic.</summary>
public sealed record TrafficSecond(DateTimeOffset Second, int Requests, int Errors, double CostUsd);

/// <summary>What the live pages show: rates over the last minute, latency percentiles over recent requests, per deployment.</summary>
public sealed record TrafficSnapshot(
    IReadOnlyList<TrafficSecond> LastMinute,
    double RequestsPerSecond,
    double ErrorFraction,
    double CostPerHourUsd,
    long Retries,
    double? E2eP50Ms,
    double? E2eP95Ms,
    double? TtftP50Ms,
    double? TtftP95Ms,
    IReadOnlyDictionary<string, int> RequestsByDeploymentLastMinute);

/// <summary>
/// Listens to Flare's meter and keeps a rolling minute of per-second counts and a reservoir of recent
/// latencies for the live traffic page; reading it never touches the database or the request path.
/// </summary>
public sealed class TrafficMonitor : IDisposable
{
    private const int Seconds = 60;
    private const int Reservoir = 2000;

    private readonly MeterListener _listener = new();
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly long[] _secondOf = new long[Seconds];
    private readonly int[] _requests = new int[Seconds];
    private readonly int[] _errors = new int[Seconds];
    private readonly double[] _cost = new double[Seconds];
    private readonly Dictionary<string, int>[] _byDeployment = Enumerable.Range(0, Seconds).Select(_ => new Dictionary<string, int>()).ToArray();
    private readonly double[] _e2e = new double[Reservoir];
    private readonly double[] _ttft = new double[Reservoir];
    private long _e2eCount;
    private long _ttftCount;
    private long _retries;

    public TrafficMonitor(FlareMetrics metrics, TimeProvider time)
    {
        _time = time;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == metrics.Meter)
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, s) => ((TrafficMonitor)s!).OnLong(i.Name, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, s) => ((TrafficMonitor)s!).OnDouble(i.Name, v));
        _listener.Start();
    }

    private void OnLong(string name, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (name == "flare_retries")
        {
            Interlocked.Add(ref _retries, value);
            return;
        }

        if (name != "flare_requests")
        {
            return;
        }

        string deployment = "none";
        var status = 0;
        foreach (var tag in tags)
        {
            if (tag.Key == "deployment") { deployment = tag.Value as string ?? "none"; }
            else if (tag.Key == "status" && tag.Value is int s) { status = s; }
        }

        lock (_lock)
        {
            var slot = Slot();
            _requests[slot] += (int)value;
            if (status >= 400)
            {
                _errors[slot] += (int)value;
            }

            var map = _byDeployment[slot];
            map[deployment] = map.GetValueOrDefault(deployment) + (int)value;
        }
    }

    private void OnDouble(string name, double value)
    {
        switch (name)
        {
            case "flare_cost_usd":
                lock (_lock) { _cost[Slot()] += value; }
                break;
            case "flare_e2e_seconds":
                lock (_lock) { _e2e[_e2eCount++ % Reservoir] = value * 1000; }
                break;
            case "flare_ttft_seconds":
                lock (_lock) { _ttft[_ttftCount++ % Reservoir] = value * 1000; }
                break;
        }
    }

    /// <summary>The ring slot of the current second, cleared when a new second starts. Call under the lock.</summary>
    private int Slot()
    {
        var second = _time.GetUtcNow().ToUnixTimeSeconds();
        var slot = (int)(second % Seconds);
        if (_secondOf[slot] != second)
        {
            _secondOf[slot] = second;
            _requests[slot] = 0;
            _errors[slot] = 0;
            _cost[slot] = 0;
            _byDeployment[slot].Clear();
        }

        return slot;
    }

    public TrafficSnapshot Snapshot()
    {
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var seconds = new List<TrafficSecond>(Seconds);
        var byDeployment = new Dictionary<string, int>();
        double[] e2e, ttft;
        lock (_lock)
        {
            for (var s = now - Seconds + 1; s <= now; s++)
            {
                var slot = (int)(s % Seconds);
                var live = _secondOf[slot] == s;
                seconds.Add(new TrafficSecond(DateTimeOffset.FromUnixTimeSeconds(s), live ? _requests[slot] : 0, live ? _errors[slot] : 0, live ? _cost[slot] : 0));
                if (live)
                {
                    foreach (var (d, n) in _byDeployment[slot])
                    {
                        byDeployment[d] = byDeployment.GetValueOrDefault(d) + n;
                    }
                }
            }

            e2e = _e2e[..(int)Math.Min(_e2eCount, Reservoir)];
            ttft = _ttft[..(int)Math.Min(_ttftCount, Reservoir)];
        }

        // Rates over the last 10 complete seconds: steadier than one second, fresher than a minute.
        var recent = seconds.Skip(Seconds - 11).Take(10).ToList();
        var requests = recent.Sum(s => s.Requests);
        return new TrafficSnapshot(
            seconds,
            requests / 10.0,
            requests == 0 ? 0 : recent.Sum(s => s.Errors) / (double)requests,
            seconds.Sum(s => s.CostUsd) * 60,
            Interlocked.Read(ref _retries),
            Percentile(e2e, 0.5), Percentile(e2e, 0.95), Percentile(ttft, 0.5), Percentile(ttft, 0.95),
            byDeployment);
    }

    /// <summary>Nearest-rank percentile; null when there is nothing to rank.</summary>
    internal static double? Percentile(double[] values, double p)
    {
        if (values.Length == 0)
        {
            return null;
        }

        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    public void Dispose() => _listener.Dispose();
}
