using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Routing.Registry;
using Flare.Web.History;
using Flare.Web.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

// Imports LLMRouter's dcrouter train.json into a fresh SQLite file through Flare's real host: the nine models are
// registered first (so every row is mapped and reaches the estimator), the file is uploaded over HTTP like an operator
// would (POST /api/history/datasets), and the clock runs until the dataset is completed — streaming parse, batched
// commits, o200k token counts, embedding and HNSW inserts of every committed batch — and then until the refit of the
// embedder's idf (a rebuild of the whole estimator) is swapped in.
var arguments = args.Select((a, i) => (a, i)).Where(p => p.a.StartsWith("--", StringComparison.Ordinal))
    .ToDictionary(p => p.a[2..], p => args[p.i + 1]);
var file = Path.GetFullPath(arguments.GetValueOrDefault("file") ?? "../shared/data/LLMRouter/data/dcrouter_preprocessed/train.json");
if (!File.Exists(file))
{
    Console.Error.WriteLine($"HistoryBench: {file} does not exist (pass --file, or put the shared data beside the repository).");
    return 1;
}

var dataDirectory = Path.Combine(Path.GetTempPath(), "flare-history-bench-" + Guid.NewGuid().ToString("n"));
var adminToken = "flare-history-bench-" + Guid.NewGuid().ToString("n");
var app = FlareHost.Build([
    $"--Flare:AdminToken={adminToken}",
    "--urls", "http://127.0.0.1:0", "--environment", "Production", $"--Flare:DataDirectory={dataDirectory}",
    "--Flare:Demo=false", "--Flare:HostEmulator=false", "--Flare:DemoTrafficPerSecond=0", "--Logging:LogLevel:Default=Warning",
]);
await app.StartAsync();
try
{
    var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromMinutes(10) };
    http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
    var index = app.Services.GetRequiredService<HistoryIndexService>();
    while (!index.IsReady)
    {
        await Task.Delay(10);
    }

    var registry = app.Services.GetRequiredService<RegistryStore>();
    using (var document = JsonDocument.Parse(File.ReadAllText(file)))
    {
        foreach (var model in document.RootElement[0].GetProperty("scores").EnumerateObject())
        {
            await registry.CreateModelAsync(new ModelInput { Name = model.Name, Family = "dcrouter", ParameterCountBillions = 7, ContextLength = 32768 });
        }
    }

    var json = new JsonSerializerOptions(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    var revision = index.Revision;
    var process = Process.GetCurrentProcess();
    var cpuAtStart = process.TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    HistoryUploadResult upload;
    await using (var content = File.OpenRead(file))
    {
        using var response = await http.PostAsync("api/history/datasets?format=llmrouter&name=dcrouter-train", new StreamContent(content));
        response.EnsureSuccessStatusCode();
        upload = (await response.Content.ReadFromJsonAsync<HistoryUploadResult>(json))!;
    }

    var accepted = clock.Elapsed;
    // Progress as a client polls it: the dataset list (the detail also counts every model's rows, a scan of the history).
    HistoryDatasetView dataset;
    while (true)
    {
        dataset = (await http.GetFromJsonAsync<List<HistoryDatasetView>>("api/history/datasets", json))!.Single(d => d.Id == upload.Dataset.Id);
        if (dataset.Status != HistoryImportStatus.Running)
        {
            break;
        }

        await Task.Delay(50);
    }

    var imported = clock.Elapsed;
    process.Refresh();
    var cpuImport = process.TotalProcessorTime - cpuAtStart;
    var live = index.Current;
    var incrementalPrompts = live.Count;
    while (index.Revision == revision)
    {
        await Task.Delay(20);
    }

    var refitted = clock.Elapsed;
    process.Refresh();
    var cpuRefit = process.TotalProcessorTime - cpuAtStart - cpuImport;
    var estimator = index.Current;
    var estimate = Stopwatch.StartNew();
    var sample = estimator.Estimate("Q: A farmer has 17 sheep and all but 9 run away. How many are left?");
    estimate.Stop();

    string S(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture);
    Console.WriteLine($"file: {file} ({new FileInfo(file).Length:N0} bytes)");
    Console.WriteLine($"dataset {dataset.Id}: {dataset.Status}, {dataset.RowsRead:N0} rows read, {dataset.RowsImported:N0} imported, {dataset.RowsRejected:N0} rejected, {dataset.Models} models ({dataset.UnmappedModels} unmapped)");
    Console.WriteLine($"upload streamed, hashed and accepted (202):          {S(accepted)} s");
    Console.WriteLine($"import completed (parse, commit, embed, index):      {S(imported)} s   <- acceptance: < 30 s; the live estimator then holds {incrementalPrompts:N0} prompts");
    Console.WriteLine($"idf refitted, estimator rebuilt and swapped in:      {S(refitted)} s   ({S(refitted - imported)} s after the import; {estimator.Count:N0} prompts, {estimator.Models.Count} models, {index.EmbedderDescription})");
    Console.WriteLine($"CPU time of this process (both cores, the HTTP client's share included): import {S(cpuImport)} s, refit {S(cpuRefit)} s; load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
    Console.WriteLine($"one estimate afterwards: {estimate.Elapsed.TotalMilliseconds:0.00} ms, {sample.Models.Count} models, {sample.Neighbours} neighbours");
    return dataset.Status == HistoryImportStatus.Completed && incrementalPrompts == dataset.RowsImported ? 0 : 2;
}
finally
{
    await app.StopAsync();
    await app.DisposeAsync();
    Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    Directory.Delete(dataDirectory, recursive: true);
}
