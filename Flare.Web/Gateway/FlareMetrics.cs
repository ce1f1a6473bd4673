using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Flare.Web.Gateway;

/// <summary>
/// Flare's one <see cref="Meter"/> (named <c>Flare</c>, so OpenTelemetry can pick it up too) and the
/// instruments the data plane records. <see cref="PrometheusExporter"/> renders them at <c>/metrics</c>.
/// </summary>
public sealed class FlareMetrics : IDisposable
{
    public const string MeterName = "Flare";

    private readonly Meter _meter = new(MeterName, "1.0");

    public FlareMetrics(RoutingState routing)
    {
        Requests = _meter.CreateCounter<long>("flare_requests", description: "Requests on /v1 by deployment, policy and HTTP status.");
        Retries = _meter.CreateCounter<long>("flare_retries", description: "Attempts moved to another deployment.");
        Tokens = _meter.CreateCounter<long>("flare_tokens", description: "Tokens by deployment and direction (input/output).");
        Cost = _meter.CreateCounter<double>("flare_cost_usd", description: "Cost of served requests in USD.");
        Ttft = _meter.CreateHistogram<double>("flare_ttft_seconds", description: "Time to first byte of the response body, seconds.");
        E2e = _meter.CreateHistogram<double>("flare_e2e_seconds", description: "Time to the last byte, seconds.");
        Overhead = _meter.CreateHistogram<double>("flare_overhead_seconds", description: "Flare's own time per request, excluding the backend's, seconds.");
        _meter.CreateObservableGauge("flare_in_flight", () => routing.Snapshot.Deployments
            .Select(d => new Measurement<int>(routing.State(d.Id).InFlight, new KeyValuePair<string, object?>("deployment", d.Name))),
            description: "Requests in flight per deployment.");
        _meter.CreateObservableGauge("flare_deployment_healthy", () => routing.Snapshot.Deployments
            .Select(d => new Measurement<int>(routing.State(d.Id).IsEjected ? 0 : 1, new KeyValuePair<string, object?>("deployment", d.Name))),
            description: "1 when passive health keeps the deployment in, 0 while it is out.");
    }

    public Meter Meter => _meter;
    public Counter<long> Requests { get; }
    public Counter<long> Retries { get; }
    public Counter<long> Tokens { get; }
    public Counter<double> Cost { get; }
    public Histogram<double> Ttft { get; }
    public Histogram<double> E2e { get; }
    public Histogram<double> Overhead { get; }

    public void Dispose() => _meter.Dispose();
}

/// <summary>
/// Aggregates the <c>Flare</c> meter's measurements with a <see cref="MeterListener"/> and renders them in
/// Prometheus' text format: counters as <c>_total</c>, histograms with cumulative <c>le</c> buckets.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] LatencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Labels), Series> _series = new();

    // Measurements come with the same few tag sets again and again; finding their series by the tags
    // themselves skips building the label string (several allocations) on every measurement.
    private readonly ConcurrentDictionary<TagSet, Series> _byTags = new();
    private readonly ConcurrentDictionary<string, (string Kind, string? Help)> _instruments = new();

    public PrometheusExporter(FlareMetrics metrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == metrics.Meter)
            {
                var kind = instrument switch
                {
                    Histogram<double> => "histogram",
                    ObservableGauge<int> => "gauge",
                    _ => "counter", // an observable counter reports its running total, set (not added) below
                };
                _instruments[instrument.Name] = (kind, instrument.Description);
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, s) => ((PrometheusExporter)s!).Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, s) => ((PrometheusExporter)s!).Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, s) => ((PrometheusExporter)s!).Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        Series series;
        if (tags.Length <= TagSet.MaxTags)
        {
            var key = new TagSet(instrument, tags);
            if (!_byTags.TryGetValue(key, out series!))
            {
                series = _series.GetOrAdd((instrument.Name, Labels(tags)), static k => new Series());
                _byTags.TryAdd(key, series);
            }
        }
        else
        {
            series = _series.GetOrAdd((instrument.Name, Labels(tags)), static k => new Series());
        }

        switch (instrument)
        {
            case Histogram<double>:
                series.Observe(value, LatencyBuckets);
                break;
            case ObservableGauge<int> or ObservableCounter<long>:
                series.Set(value);
                break;
            default:
                series.Add(value);
                break;
        }
    }

    public string Render()
    {
        _listener.RecordObservableInstruments();
        var sb = new StringBuilder(4096);
        foreach (var group in _series.GroupBy(kv => kv.Key.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var (kind, help) = _instruments.GetValueOrDefault(group.Key, ("counter", null));
            var name = kind == "counter" ? group.Key + "_total" : group.Key;
            if (help is not null)
            {
                sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            }

            sb.Append("# TYPE ").Append(name).Append(' ').Append(kind).Append('\n');
            foreach (var (key, series) in group.OrderBy(kv => kv.Key.Labels, StringComparer.Ordinal))
            {
                series.Render(sb, name, key.Labels, kind, LatencyBuckets);
            }
        }

        return sb.ToString();
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var parts = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++)
        {
            var value = Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "";
            parts[i] = $"{tags[i].Key}=\"{value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"";
        }

        Array.Sort(parts, StringComparer.Ordinal);
        return string.Join(',', parts);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>An instrument and up to three tags, compared by value without allocating.</summary>
    private readonly struct TagSet : IEquatable<TagSet>
    {
        public const int MaxTags = 3;

        private readonly Instrument _instrument;
        private readonly int _count;
        private readonly KeyValuePair<string, object?> _t0, _t1, _t2;

        public TagSet(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            _instrument = instrument;
            _count = tags.Length;
            _t0 = tags.Length > 0 ? tags[0] : default;
            _t1 = tags.Length > 1 ? tags[1] : default;
            _t2 = tags.Length > 2 ? tags[2] : default;
        }

        public bool Equals(TagSet other) =>
            ReferenceEquals(_instrument, other._instrument) && _count == other._count
            && Same(_t0, other._t0) && Same(_t1, other._t1) && Same(_t2, other._t2);

        public override bool Equals(object? obj) => obj is TagSet other && Equals(other);

        public override int GetHashCode() =>
            HashCode.Combine(_instrument, _count, _t0.Key, _t0.Value, _t1.Key, _t1.Value, _t2.Key, _t2.Value);

        private static bool Same(KeyValuePair<string, object?> a, KeyValuePair<string, object?> b) =>
            string.Equals(a.Key, b.Key, StringComparison.Ordinal) && Equals(a.Value, b.Value);
    }

    private sealed class Series
    {
        private readonly Lock _lock = new();
        private double _value;
        private long _count;
        private double _sum;
        private long[]? _buckets;

        public void Add(double v)
        {
            lock (_lock) { _value += v; }
        }

        public void Set(double v)
        {
            lock (_lock) { _value = v; }
        }

        public void Observe(double v, double[] bounds)
        {
            lock (_lock)
            {
                _buckets ??= new long[bounds.Length];
                _count++;
                _sum += v;
                var i = Array.BinarySearch(bounds, v);
                for (i = i < 0 ? ~i : i; i < bounds.Length; i++)
                {
                    _buckets[i]++;
                }
            }
        }

        public void Render(StringBuilder sb, string name, string labels, string kind, double[] bounds)
        {
            lock (_lock)
            {
                if (kind != "histogram")
                {
                    Line(sb, name, labels, null, _value);
                    return;
                }

                for (var i = 0; i < bounds.Length; i++)
                {
                    Line(sb, name + "_bucket", labels, bounds[i].ToString(CultureInfo.InvariantCulture), _buckets?[i] ?? 0);
                }

                Line(sb, name + "_bucket", labels, "+Inf", _count);
                Line(sb, name + "_sum", labels, null, _sum);
                Line(sb, name + "_count", labels, null, _count);
            }
        }

        private static void Line(StringBuilder sb, string name, string labels, string? le, double value)
        {
            sb.Append(name);
            if (labels.Length > 0 || le is not null)
            {
                sb.Append('{').Append(labels);
                if (le is not null)
                {
                    sb.Append(labels.Length > 0 ? "," : "").Append("le=\"").Append(le).Append('"');
                }

                sb.Append('}');
            }

            sb.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
    }
}
