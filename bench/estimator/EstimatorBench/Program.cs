using System.Diagnostics;
using System.Globalization;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Routing.Estimation.Embeddings;
using Flare.Routing.Estimation.Index;

// Synthesized history: every prompt starts from a dcrouter question (train + test, 6,108) and gets seeded random
// edits — a clause of another question spliced in, words dropped, swapped or replaced by corpus words, a number
// appended — so that the 100,000 prompts are distinct but clustered the way real traffic is. Scores are the base
// question's, each flipped with probability 0.1; output tokens are drawn log-normally around a per-model mean.
var arguments = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => args[p.i + 1]);
var data = arguments.GetValueOrDefault("data") ?? "../shared/data";
var count = int.Parse(arguments.GetValueOrDefault("count") ?? "100000", CultureInfo.InvariantCulture);
var hnsw = HnswOptions.Default;
if (arguments.TryGetValue("ef-search", out var efArgument))
{
    hnsw = hnsw with { EfSearch = int.Parse(efArgument, CultureInfo.InvariantCulture) };
}

if (arguments.TryGetValue("m", out var mArgument))
{
    hnsw = hnsw with { M = int.Parse(mArgument, CultureInfo.InvariantCulture) };
}

var folder = Path.Combine(data, "LLMRouter", "data", "dcrouter_preprocessed");
var seeds = new List<HistoryEntry>();
foreach (var file in new[] { "train.json", "test.json" })
{
    var set = HistoryDatasets.Read(Path.Combine(folder, file), HistoryFormat.LlmRouter);
    if (!set.Succeeded)
    {
        Console.Error.WriteLine($"EstimatorBench: {set.Failure}");
        return 1;
    }

    seeds.AddRange(set.Entries);
}

var vocabulary = seeds.SelectMany(s => s.Prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct().ToArray();
var models = seeds[0].Outcomes.Select(o => o.Model).ToArray();

string Edit(Random random, string text)
{
    var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
    var other = seeds[random.Next(seeds.Count)].Prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    var start = random.Next(other.Length);
    var clause = other.Skip(start).Take(3 + random.Next(8));
    if (random.Next(2) == 0)
    {
        words.AddRange(clause);
    }
    else
    {
        words.InsertRange(0, clause);
    }

    for (var i = 0; i < words.Count; i++)
    {
        var roll = random.NextDouble();
        if (roll < 0.05 && words.Count > 3)
        {
            words.RemoveAt(i);
        }
        else if (roll < 0.10)
        {
            words[i] = vocabulary[random.Next(vocabulary.Length)];
        }
        else if (roll < 0.13 && i + 1 < words.Count)
        {
            (words[i], words[i + 1]) = (words[i + 1], words[i]);
        }
    }

    words.Add(random.Next(100000).ToString(CultureInfo.InvariantCulture));
    return string.Join(' ', words);
}

List<HistoryEntry> Synthesize(int n, int seed)
{
    var random = new Random(seed);
    var result = new List<HistoryEntry>(n);
    for (var i = 0; i < n; i++)
    {
        var baseEntry = seeds[random.Next(seeds.Count)];
        var outcomes = baseEntry.Outcomes.Select((o, m) => new ModelOutcome(
            o.Model,
            random.NextDouble() < 0.1 ? 1 - Math.Round(o.Score ?? 0) : o.Score,
            (int)Math.Max(1, Math.Exp(Math.Log(80 + (40 * m)) + (0.6 * NormalSample(random)))))).ToList();
        result.Add(new HistoryEntry(Edit(random, baseEntry.Prompt), outcomes));
    }

    return result;
}

static double NormalSample(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

Console.WriteLine($"Seed questions: {seeds.Count} (dcrouter train + test), {models.Length} models; synthesizing {count:N0} history prompts (seed 1) and 21,000 query prompts (seed 2).");
var history = Synthesize(count, 1);
var queries = Synthesize(21000, 2).Select(e => e.Prompt).ToList();
var tokens = O200kTokenCounter.Shared;
tokens.Count("warm up");

var clock = Stopwatch.StartNew();
var embedder = HashedNgramEmbedder.Fit(history.Select(h => h.Prompt));
var fitSeconds = clock.Elapsed.TotalSeconds;
clock.Restart();
var estimator = HistoryEstimator.Build(history, embedder, tokens, new HnswIndex(embedder.Dimensions, hnsw));
var buildSeconds = clock.Elapsed.TotalSeconds;
var index = (HnswIndex)estimator.Index;
Console.WriteLine($"Indexed {estimator.Count:N0} distinct prompts: idf fit {fitSeconds:F1} s, embed + HNSW insert {buildSeconds:F1} s " +
    $"(M={index.Options.M}, efConstruction={index.Options.EfConstruction}, {embedder.Dimensions} dimensions); " +
    $"managed heap {GC.GetTotalMemory(true) / 1e6:F0} MB.");

// Recall@10 against exact search over the same vectors, 1,000 held-out queries, for several search breadths.
var exact = new ExactIndex(embedder.Dimensions);
for (var id = 0; id < index.Count; id++)
{
    exact.Add(index.Vector(id));
}

Console.WriteLine();
Console.WriteLine("| efSearch | recall@10 (1,000 queries) | search p50 µs | search p99 µs |");
Console.WriteLine("|---:|---:|---:|---:|");
var recallQueries = queries.Take(1000).ToList();
var truths = recallQueries.Select(q =>
{
    var v = new float[embedder.Dimensions];
    embedder.Embed(q, v);
    return (Vector: v, Ids: exact.Search(v, 10).Select(n => n.Id).ToHashSet());
}).ToList();
foreach (var ef in new[] { 32, 48, 64, 96, 128 }.Append(index.Options.EfSearch).Distinct().Order())
{
    var times = new List<double>();
    double recall = 0;
    foreach (var (v, ids) in truths)
    {
        var t0 = Stopwatch.GetTimestamp();
        var found = index.Search(v, 10, ef);
        times.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
        recall += found.Count(n => ids.Contains(n.Id)) / 10.0;
    }

    times.Sort();
    Console.WriteLine(FormattableString.Invariant($"| {ef}{(ef == index.Options.EfSearch ? " (default)" : "")} | {recall / truths.Count:F4} | {P(times, 0.5):F0} | {P(times, 0.99):F0} |"));
}

// One estimate = tokenize + embed + search + aggregate for all models, with Flare's defaults, one thread.
var options = EstimatorOptions.Default;
var warm = queries.Skip(1000).Take(2000).ToList();
foreach (var q in warm)
{
    estimator.Estimate(q);
}

var timed = queries.Skip(1000).Take(20000).ToList();
var total = new List<double>(timed.Count);
var tokenize = new List<double>(timed.Count);
var embed = new List<double>(timed.Count);
var search = new List<double>(timed.Count);
var aggregate = new List<double>(timed.Count);
var buffer = new float[embedder.Dimensions];
var gcBefore = GC.CollectionCount(0);
var bytesBefore = GC.GetAllocatedBytesForCurrentThread();
foreach (var q in timed)
{
    var t0 = Stopwatch.GetTimestamp();
    var estimate = estimator.Estimate(q);
    total.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
    if (estimate.Models.Count != models.Length)
    {
        throw new InvalidOperationException("An estimate missed a model.");
    }
}

var gcs = GC.CollectionCount(0) - gcBefore;
var bytesPerEstimate = (GC.GetAllocatedBytesForCurrentThread() - bytesBefore) / timed.Count;
foreach (var q in timed)
{
    var t0 = Stopwatch.GetTimestamp();
    var n = tokens.Count(q);
    var t1 = Stopwatch.GetTimestamp();
    embedder.Embed(q, buffer);
    var t2 = Stopwatch.GetTimestamp();
    var neighbours = index.Search(buffer, options.K);
    var t3 = Stopwatch.GetTimestamp();
    estimator.Aggregate(neighbours, n, options);
    var t4 = Stopwatch.GetTimestamp();
    tokenize.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMicroseconds);
    embed.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMicroseconds);
    search.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMicroseconds);
    aggregate.Add(Stopwatch.GetElapsedTime(t3, t4).TotalMicroseconds);
}

Console.WriteLine();
Console.WriteLine($"One estimate with Flare's defaults ({options}, efSearch {index.Options.EfSearch}), {timed.Count:N0} distinct held-out prompts after {warm.Count:N0} warm-up estimates, one thread; {gcs} gen-0 collections during the run, {bytesPerEstimate:N0} bytes allocated per estimate:");
Console.WriteLine();
Console.WriteLine("| step | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|");
foreach (var (name, values) in new[] { ("whole estimate", total), ("tokenize (o200k)", tokenize), ("embed", embed), ($"search (k={options.K})", search), ("aggregate (9 models)", aggregate) })
{
    values.Sort();
    Console.WriteLine(FormattableString.Invariant($"| {name} | {P(values, 0.5):F0} | {P(values, 0.9):F0} | {P(values, 0.99):F0} | {P(values, 0.999):F0} | {values[^1]:F0} |"));
}

return 0;

static double P(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
