using System.Net.Http.Json;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Routing.Estimation;
using Flare.Routing.Estimation.Datasets;
using Flare.Routing.Estimation.Embeddings;
using Flare.Tests.Data.History;
using Flare.Tests.Routing.Estimation;
using Flare.Tests.Support;
using Flare.Web.History;
using Microsoft.Extensions.DependencyInjection;
using static Flare.Tests.Web.History.HistoryTestSupport;

namespace Flare.Tests.Web.History;

/// <summary>The live estimator on the real host: rebuilt from the database at start, ONNX or the built-in embedder.</summary>
[Collection(nameof(HostCollection))]
public sealed class HistoryIndexTests
{
    [Fact]
    public async Task Restart_OnTheSameDatabase_RebuildsTheEstimatorWithTheRows_AndMarksCutOffImportsInterrupted()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        int promptsBefore;
        IReadOnlyList<string> modelsBefore;
        double qualityBefore;
        int cutOff;
        string leftover;
        await using (var flare = new FlareServer(dir.Path, demo: false))
        {
            await flare.StartAsync(ct);
            var index = flare.Services.GetRequiredService<HistoryIndexService>();
            await WaitUntilAsync(() => index.IsReady, TimeSpan.FromSeconds(30), () => "not ready");
            await flare.Services.GetRequiredService<RegistryStore>().CreateModelAsync(Samples.Llama8B with { Name = "m1" });
            using var client = flare.CreateClient();
            using var upload = await UploadRawAsync(client,
                Jsonl(("Sort a list in Python.", [("m1", 1), ("m2", 0)]), ("Bake bread at home.", [("m1", 0.2)]), ("Write a sonnet about rain.", [("m1", 0.6)])), "format=jsonl");
            var id = (await upload.Content.ReadFromJsonAsync<HistoryUploadResult>(Json, ct))!.Dataset.Id;
            await WaitForImportAsync(client, id);
            promptsBefore = index.Current.Count;
            modelsBefore = index.Current.Models;
            qualityBefore = index.Current.Estimate("Sort a list in Python.").For("m1")!.Quality;

            // An import that never ran (as if Flare died mid-import) and its upload file.
            var bytes = Jsonl(("never imported", [("m1", 1)]));
            var store = flare.Services.GetRequiredService<HistoryStore>();
            cutOff = (await store.BeginImportAsync("cut off", HistoryFormat.Jsonl, HistoryStoreTests.Sha(bytes), bytes.Length, ct)).Value!.Dataset.Id;
            var imports = flare.Services.GetRequiredService<HistoryImports>();
            leftover = Path.Combine(imports.UploadDirectory, "history-leftover.upload");
            await File.WriteAllBytesAsync(leftover, bytes, ct);
        }

        Assert.Equal(3, promptsBefore);
        Assert.Equal(["m1"], modelsBefore);

        await using var again = new FlareServer(dir.Path, demo: false);
        await again.StartAsync(ct);
        var rebuilt = again.Services.GetRequiredService<HistoryIndexService>();
        await WaitUntilAsync(() => rebuilt.IsReady, TimeSpan.FromSeconds(30), () => "the start-up rebuild did not finish");

        Assert.Equal(promptsBefore, rebuilt.Current.Count);
        Assert.Equal(modelsBefore, rebuilt.Current.Models);
        Assert.Equal(qualityBefore, rebuilt.Current.Estimate("Sort a list in Python.").For("m1")!.Quality, 3);
        Assert.Equal(3, ((HashedNgramEmbedder)rebuilt.Current.Embedder).FittedDocuments);
        var interrupted = (await again.Services.GetRequiredService<HistoryStore>().GetDatasetAsync(cutOff, ct))!.Dataset;
        Assert.Equal(HistoryImportStatus.Interrupted, interrupted.Status);
        Assert.False(File.Exists(leftover));
    }

    [Fact]
    public async Task Start_OnnxModelMissing_FailsNamingTheFile()
    {
        using var dir = new TempDirectory();
        var missing = Path.Combine(dir.Path, "nope.onnx");
        await using var flare = new FlareServer(dir.Path, demo: false,
            $"--Flare:Estimator:OnnxModelPath={missing}", $"--Flare:Estimator:OnnxVocabularyPath={Path.Combine(dir.Path, "vocab.txt")}");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => flare.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(missing, error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public async Task Start_OnnxModelBroken_FailsWithTheReason()
    {
        using var dir = new TempDirectory();
        var model = Path.Combine(dir.Path, "broken.onnx");
        var vocab = Path.Combine(dir.Path, "vocab.txt");
        await File.WriteAllTextAsync(model, "this is not an ONNX model", TestContext.Current.CancellationToken);
        await File.WriteAllLinesAsync(vocab, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat"], TestContext.Current.CancellationToken);
        await using var flare = new FlareServer(dir.Path, demo: false, $"--Flare:Estimator:OnnxModelPath={model}", $"--Flare:Estimator:OnnxVocabularyPath={vocab}");

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => flare.StartAsync(TestContext.Current.CancellationToken));

        Assert.True(error.Message.Contains(model) && error.Message.Contains("could not be loaded"), error.Message);
    }

    [Fact]
    public async Task Start_OnnxModelPathWithoutVocabulary_FailsValidation()
    {
        using var dir = new TempDirectory();
        await using var flare = new FlareServer(dir.Path, demo: false, "--Flare:Estimator:OnnxModelPath=model.onnx");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => flare.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("OnnxVocabularyPath", error.Message);
    }

    [Fact]
    public async Task Start_OnnxModelWithCudaRequested_RunsOnTheCpu_AndImportsEmbedWithIt()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        string[] vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "cat", "dog", "sat", "the"];
        var model = Path.Combine(dir.Path, "model.onnx");
        var vocab = Path.Combine(dir.Path, "vocab.txt");
        await File.WriteAllBytesAsync(model, TinyOnnx.GatherModel(vocabulary.Length, 4, t => [t, t % 2 == 0 ? 1 : -1, t * 0.5f, 1], withAttentionMask: true), ct);
        await File.WriteAllLinesAsync(vocab, vocabulary, ct);
        await using var flare = new FlareServer(dir.Path, demo: false,
            $"--Flare:Estimator:OnnxModelPath={model}", $"--Flare:Estimator:OnnxVocabularyPath={vocab}", "--Flare:Estimator:UseCuda=true");

        await flare.StartAsync(ct);

        var index = flare.Services.GetRequiredService<HistoryIndexService>();
        await WaitUntilAsync(() => index.IsReady, TimeSpan.FromSeconds(30), () => "not ready");
        var onnx = Assert.IsType<OnnxEmbedder>(index.Current.Embedder);
        Assert.Equal("cpu", onnx.ExecutionProvider);
        Assert.Equal("onnx (cpu)", index.EmbedderDescription);
        await flare.Services.GetRequiredService<RegistryStore>().CreateModelAsync(Samples.Llama8B with { Name = "m" });
        using var client = flare.CreateClient();
        using var upload = await UploadRawAsync(client, Jsonl(("the cat sat", [("m", 1)]), ("the dog", [("m", 0)])), "format=jsonl");
        await WaitForImportAsync(client, (await upload.Content.ReadFromJsonAsync<HistoryUploadResult>(Json, ct))!.Dataset.Id);
        Assert.Equal(2, index.Current.Count);
        Assert.Equal(4, index.Current.Index.Dimensions);
        // The tiny model's vectors are close (cosine 0.99), so each prompt's own score only leads: the ONNX vectors are the ones searched.
        Assert.True(index.Current.Estimate("the cat sat").For("m")!.Quality > index.Current.Estimate("the dog").For("m")!.Quality);
    }
}
