using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Profiling;

/// <summary>Profiling's <c>/api</c>: imports with line-numbered issues, validation, conflicts, and the snapshot.</summary>
[Collection(nameof(HostCollection))]
public sealed class ProfilingApiTests : IAsyncLifetime
{
    private readonly FlareWebFactory _factory = new();
    private HttpClient _client = null!;
    private DeploymentView _deployment = null!;

    public async ValueTask InitializeAsync()
    {
        _client = _factory.CreateClient();
        _deployment = (await Samples.FleetAsync(_factory.Services.GetRequiredService<RegistryStore>())).Deployment;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    private static readonly Flare.Routing.Profiles.LatencyModel Curves = new(20, 0.05, 0, 2, 8, 0.5, 0);

    [Fact]
    public async Task ImportGenericCsv_MalformedRowsReportedWithLineNumbers_RestImportedFittedAndPublished()
    {
        var csv = new StringBuilder("input_tokens,output_tokens,concurrency,ttft_ms,tpot_ms,e2e_ms\n");
        foreach (var (input, c) in new[] { (128, 1), (512, 1), (2048, 1), (128, 4), (512, 4), (2048, 4), (128, 8), (512, 8), (2048, 8) })
        {
            foreach (var output in new[] { 32, 128 })
            {
                // A deployment that behaves exactly like a LatencyModel: a = 20, b = 0.05, h = 2, d = 8, e = 0.5 (TPOT = 8 + 0.5·c;
                // TTFT = 20 + 0.05·L_in + 2·(c−1), plus half a decode step at c > 1 and the others' prompts where prefill saturates).
                var ttft = Curves.TtftMs(input, output, c);
                var tpot = Curves.TpotMs(input, output, c);
                csv.AppendLine(FormattableString.Invariant($"{input},{output},{c},{ttft},{tpot},{ttft + (output - 1) * tpot}"));
            }
        }

        csv.AppendLine("512,abc,4,1,1,1");       // line 20
        csv.AppendLine("512,128,4,-5,10,100");   // line 21

        var response = await ImportAsync(csv.ToString(), "generic");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var issues = json.GetProperty("issues").EnumerateArray().Select(i => i.GetProperty("lineNumber").GetInt32()).ToList();
        Assert.Equal([20, 21], issues);
        Assert.Equal(18, json.GetProperty("run").GetProperty("samplesRecorded").GetInt32());
        Assert.Equal("Import", json.GetProperty("run").GetProperty("source").GetString());
        var fit = json.GetProperty("fit");
        Assert.Equal(1, fit.GetProperty("version").GetInt32());
        Assert.True(fit.GetProperty("fit").GetProperty("ttft").GetProperty("crossValidatedMape").GetDouble() < 0.01, fit.ToString());
        Assert.True(fit.GetProperty("fit").GetProperty("tpot").GetProperty("rSquared").GetDouble() > 0.99);

        // The routing side reads the active version from the snapshot, not the database.
        var source = _factory.Services.GetRequiredService<Flare.Routing.Profiles.IProfileSource>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (source.Current.For(_deployment.Id) is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "the profile snapshot was not republished");
            await Task.Delay(20);
        }

        Assert.Equal(1, source.Current.For(_deployment.Id)!.Version);
        Assert.Equal(20, source.Current.For(_deployment.Id)!.Fit.Model.TtftMs(0, 1, 1), 1);
    }

    [Fact]
    public async Task ImportLlmInferenceBench_FilterPicksOneConfiguration_TooLooseIsRefused()
    {
        const string csv = """
            Hardware,Num of Hardware,Framework,Model,Input Output Length,Batch Size,Latency,Throughput
            Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,1,1.5,170.67
            Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,16,2.0,2048
            Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,1024,1,12.0,170.67
            Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,1024,16,20.0,1638.4
            Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,256,4,4.0,512
            Nvidia A100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,oops,4,4.0,512
            Nvidia H100 GPU,1,vLLM,meta-llama/Meta-Llama-3-8B,128,1,1.0,256
            """;

        var loose = await ImportAsync(csv, "llm-inference-bench");
        Assert.Equal(HttpStatusCode.BadRequest, loose.StatusCode);
        Assert.Contains("2 configurations", await loose.Content.ReadAsStringAsync());

        var filtered = await ImportAsync(csv, "llm-inference-bench", ("hardware", "A100"), ("framework", "vLLM"), ("hardwareCount", "1"));
        Assert.Equal(HttpStatusCode.Created, filtered.StatusCode);
        var json = await filtered.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(5, json.GetProperty("run").GetProperty("samplesRecorded").GetInt32());
        Assert.Contains(json.GetProperty("issues").EnumerateArray(), i => i.GetProperty("lineNumber").GetInt32() == 7);
    }

    [Fact]
    public async Task ProfileEndpoints_InvalidGridUnknownDeploymentAndSecondLiveRun_AreProblemDetails()
    {
        var invalid = await _client.PostAsJsonAsync($"api/deployments/{_deployment.Id}/profile/runs", new { inputLengths = Array.Empty<int>() });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Contains("inputLengths", await invalid.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsJsonAsync("api/deployments/9999/profile/runs", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("api/profile-runs/9999")).StatusCode);

        // The sample deployment points at an address nothing serves: the run records errors, never hangs.
        var created = await _client.PostAsJsonAsync($"api/deployments/{_deployment.Id}/profile/runs",
            new { inputLengths = new[] { 64 }, outputLengths = new[] { 4 }, concurrency = new[] { 1 }, requestsPerCell = 1, requestTimeoutSeconds = 2 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var run = (await created.Content.ReadFromJsonAsync<ProfileRunView>(ProfilingFixture.Json))!;
        var second = await _client.PostAsJsonAsync($"api/deployments/{_deployment.Id}/profile/runs", new { });
        var store = _factory.Services.GetRequiredService<ProfilingStore>();
        if ((await store.GetRunAsync(run.Id))!.IsLive)
        {
            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        }

        var ended = await ProfilingFixture.WaitForRunAsync(store, run.Id, r => !r.IsLive, TimeSpan.FromSeconds(30));
        Assert.True(ended.ErrorCount > 0);
        Assert.Equal(ended.SamplesRecorded, ended.ErrorCount);
        var samples = await _client.GetFromJsonAsync<JsonElement>($"api/profile-runs/{run.Id}/samples");
        Assert.All(samples.EnumerateArray(), s => Assert.False(string.IsNullOrEmpty(s.GetProperty("error").GetString())));
    }

    private async Task<HttpResponseMessage> ImportAsync(string csv, string layout, params (string Name, string Value)[] fields)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(csv), "file", "profile.csv" },
            { new StringContent(layout), "layout" },
        };
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        return await _client.PostAsync($"api/deployments/{_deployment.Id}/profile/import", form);
    }
}
