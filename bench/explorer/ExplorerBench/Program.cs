using Flare.Bench.Explorer;

// usage: ExplorerBench solve [--queries 5000]
//        ExplorerBench browser --url http://127.0.0.1:5594 --admin-token T --password P [--prompts 5000] [--moves 30]
string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
return args.FirstOrDefault() switch
{
    "solve" => SolveBench.Run(int.Parse(Option("--queries") ?? "5000")),
    "browser" => await BrowserBench.RunAsync(new Uri(Option("--url") ?? "http://127.0.0.1:5594/"), int.Parse(Option("--prompts") ?? "5000"), int.Parse(Option("--moves") ?? "30"),
        Option("--admin-token") ?? "", Option("--password") ?? ""),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: ExplorerBench solve [--queries N] | browser --url URL --admin-token T --password P [--prompts N] [--moves N]");
    return 2;
}
