using System.IO.Pipelines;
using System.Text;
using Bunit;
using Flare.Data.History;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Tests.Data.History;
using Flare.Tests.Support;
using Flare.Web.Components.Pages;
using Flare.Web.History;
using Flare.Web.Hosting;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace Flare.Tests.Web.Components;

/// <summary>
/// The routing history page over a real database with the real store, import worker and live estimator (their
/// background services started by the test): empty state, live progress, issues, mapping, upload.
/// </summary>
public sealed class RoutingHistoryPageTests : ComponentTestBase
{
    // Where uploads go (created by the upload, removed by the test that makes one).
    private readonly string _contentRoot = Path.Combine(Path.GetTempPath(), "flare-tests", Guid.NewGuid().ToString("n"));

    private HistoryStore Store => Ctx.Services.GetRequiredService<HistoryStore>();

    protected override void AddServices(IServiceCollection services)
    {
        services.AddLogging();
        services.AddSingleton(Db.Services.GetRequiredService<HistoryStore>());
        services.AddSingleton(Db.Services.GetRequiredService<HistoryChangeSignal>());
        services.AddSingleton<IHostEnvironment>(new HostingEnvironment { ContentRootPath = _contentRoot, EnvironmentName = "Testing" });
        services.AddSingleton(Options.Create(new HistoryOptions()));
        services.AddSingleton(Options.Create(new EstimatorSettings()));
        services.AddSingleton<HistoryIndexService>();
        services.AddSingleton<IHistoryEstimatorSource>(sp => sp.GetRequiredService<HistoryIndexService>());
        services.AddSingleton<HistoryImports>();
    }

    private async Task StartBackgroundAsync()
    {
        await Ctx.Services.GetRequiredService<HistoryIndexService>().StartAsync(CancellationToken.None);
        await Ctx.Services.GetRequiredService<HistoryImports>().StartAsync(CancellationToken.None);
    }

    private async Task StopBackgroundAsync()
    {
        await Ctx.Services.GetRequiredService<HistoryImports>().StopAsync(CancellationToken.None);
        await Ctx.Services.GetRequiredService<HistoryIndexService>().StopAsync(CancellationToken.None);
        if (Directory.Exists(_contentRoot))
        {
            Directory.Delete(_contentRoot, recursive: true);
        }
    }

    [Fact]
    public void NoHistory_ShowsTheEmptyStateSayingWhatToDo()
    {
        var cut = Ctx.Render<RoutingHistory>();

        var empty = cut.WaitForElement("[data-testid=history-empty]").TextContent;
        Assert.Contains("No routing history yet", empty);
        Assert.Contains("/v1/feedback", empty);
        Assert.Empty(cut.FindAll("[data-testid=dataset-table]"));
    }

    [Fact]
    public async Task RunningImport_ShowsLiveProgress_ThenItsIssuesByLine()
    {
        var lines = new[]
        {
            """{"prompt": "first", "scores": {"m": 1}}""",
            """{"prompt": "second", "scores": {"m": 0}}""",
            """not json at all""",
            """{"prompt": "fourth", "scores": {"m": 9}}""",
            """{"prompt": "fifth", "scores": {"m": 0.5}}""",
        };
        var all = Encoding.UTF8.GetBytes(string.Join('\n', lines));
        var head = Encoding.UTF8.GetBytes(lines[0] + "\n" + lines[1] + "\n");
        var ticket = (await Store.BeginImportAsync("live one", HistoryFormat.Jsonl, HistoryStoreTests.Sha(all), all.Length)).Value!;
        var pipe = new Pipe();
        var cut = Ctx.Render<RoutingHistory>();

        // The import reads what has arrived, commits the first batch of two and waits for more.
        var import = Task.Run(() => Store.ImportAsync(ticket.Dataset.Id, pipe.Reader.AsStream(), new HistoryImportOptions { Format = HistoryFormat.Jsonl, BatchSize = 2 }));
        await pipe.Writer.WriteAsync(head);
        cut.WaitForAssertion(() => Assert.Contains("2 rows read", cut.Find("[data-testid=import-counts]").TextContent), TimeSpan.FromSeconds(10));
        var progress = double.Parse(cut.Find("[data-testid=import-progress]").GetAttribute("data-progress")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(Math.Round((double)head.Length / all.Length, 3), progress, 3);
        Assert.Contains("Running", cut.Find($"[data-testid=dataset-{ticket.Dataset.Id}] [data-testid=dataset-status]").TextContent);

        await pipe.Writer.WriteAsync(all.AsMemory(head.Length));
        await pipe.Writer.CompleteAsync();
        await import;

        cut.WaitForAssertion(() => Assert.Contains("Completed", cut.Find($"[data-testid=dataset-{ticket.Dataset.Id}] [data-testid=dataset-status]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=import-progress]"));
        Assert.Equal("3", cut.Find("[data-testid=rows-imported]").TextContent.Trim());
        Assert.Equal("2", cut.Find("[data-testid=rows-rejected]").TextContent.Trim());
        await cut.Find("[data-testid=show-dataset]").ClickAsync(new());
        var issueLines = cut.FindAll("[data-testid=issue-line]").Select(td => td.TextContent.Trim()).ToList();
        Assert.Contains("3", issueLines);
        Assert.Contains("4", issueLines);
        Assert.Contains("outside [0, 1]", cut.Find("[data-testid=issue-table]").TextContent);
    }

    [Fact]
    public async Task MappingEditor_FlagsUnmappedModels_AndSavesAChoice()
    {
        var alpha = (await Db.Store.CreateModelAsync(Samples.Llama8B with { Name = "Alpha" })).Value!;
        var registryBeta = (await Db.Store.CreateModelAsync(Samples.Llama70B with { Name = "Beta-Registry" })).Value!;
        var bytes = Encoding.UTF8.GetBytes("""{"prompt": "p", "scores": {"alpha": 1, "beta": 0}}""");
        var done = await HistoryStoreTests.ImportAsync(Store, bytes, new HistoryImportOptions { Format = HistoryFormat.Jsonl });
        var cut = Ctx.Render<RoutingHistory>();

        cut.WaitForAssertion(() => Assert.Contains("1 unmapped", cut.Find("[data-testid=unmapped-count]").TextContent));
        await cut.Find("[data-testid=show-dataset]").ClickAsync(new());
        Assert.Empty(cut.FindAll("[data-testid=map-alpha] [data-testid=unmapped]"));
        Assert.Single(cut.FindAll("[data-testid=map-beta] [data-testid=unmapped]"));
        Assert.True(cut.Find("[data-testid=save-mapping]").HasAttribute("disabled"));

        var select = cut.FindComponents<MudSelect<int>>().Single(s => s.Instance.UserAttributes.TryGetValue("data-testid", out var id) && (string)id! == "map-select-beta");
        await cut.InvokeAsync(() => select.Instance.ValueChanged.InvokeAsync(registryBeta.Id));
        Assert.Empty(cut.FindAll("[data-testid=map-beta] [data-testid=unmapped]"));
        await cut.Find("[data-testid=save-mapping]").ClickAsync(new());

        var map = (await Store.GetModelMapAsync(done.Id)).Value!;
        Assert.Equal([("alpha", (int?)alpha.Id), ("beta", registryBeta.Id)], map.Select(m => (m.DatasetModel, m.RegistryModelId)));
        cut.WaitForAssertion(() => Assert.Empty(cut.FindAll("[data-testid=unmapped-count]")));
    }

    [Fact]
    public async Task UploadingAFile_StreamsItToTheImport_AndTheDatasetAppearsCompleted()
    {
        await StartBackgroundAsync();
        try
        {
            var cut = Ctx.Render<RoutingHistory>();
            var jsonl = """{"prompt": "Add 2 and 2.", "scores": {"m": 1}}""" + "\n" + """{"prompt": "Add 3 and 5.", "scores": {"m": 1}}""";
            var uploads = cut.FindComponents<InputFile>();

            // The second file input is the history file (the first is the optional price table); the format select starts at llmrouter.
            var format = cut.FindComponents<MudSelect<string>>().Single();
            await cut.InvokeAsync(() => format.Instance.ValueChanged.InvokeAsync("jsonl"));
            uploads[1].UploadFiles(InputFileContent.CreateFromText(jsonl, "sums.jsonl"));

            cut.WaitForAssertion(() => Assert.Contains("Importing sums.jsonl", cut.Find("[data-testid=upload-result]").TextContent), TimeSpan.FromSeconds(10));
            cut.WaitForAssertion(() => Assert.Contains("Completed", cut.Find("[data-testid=dataset-status]").TextContent), TimeSpan.FromSeconds(20));
            var dataset = Assert.Single(await Store.ListDatasetsAsync());
            Assert.Equal(("sums.jsonl", "jsonl", 2), (dataset.Name, dataset.Format, dataset.RowsImported));
            Assert.Equal(Encoding.UTF8.GetByteCount(jsonl), dataset.BytesTotal);
            // The worker deletes the upload once its import has ended (just after the dataset reads Completed).
            var uploadDirectory = Ctx.Services.GetRequiredService<HistoryImports>().UploadDirectory;
            await Flare.Tests.Web.History.HistoryTestSupport.WaitUntilAsync(
                () => Directory.GetFiles(uploadDirectory).Length == 0, TimeSpan.FromSeconds(10), () => string.Join(", ", Directory.GetFiles(uploadDirectory)));
        }
        finally
        {
            await StopBackgroundAsync();
        }
    }
}
