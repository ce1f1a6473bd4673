using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RoutingHistoryAndPlans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "HistoryDatasets",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Format = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    ContentSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    StartedUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    FinishedUtc = table.Column<DateTime>(type: "TEXT", nullable: true),
                    RowsRead = table.Column<int>(type: "INTEGER", nullable: false),
                    RowsImported = table.Column<int>(type: "INTEGER", nullable: false),
                    RowsRejected = table.Column<int>(type: "INTEGER", nullable: false),
                    BytesRead = table.Column<long>(type: "INTEGER", nullable: false),
                    BytesTotal = table.Column<long>(type: "INTEGER", nullable: false),
                    IssuesJson = table.Column<string>(type: "TEXT", nullable: false),
                    Failure = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryDatasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "RoutingPlans",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Policy = table.Column<string>(type: "TEXT", maxLength: 50, nullable: false),
                    ParametersJson = table.Column<string>(type: "TEXT", nullable: false),
                    PricesJson = table.Column<string>(type: "TEXT", nullable: false),
                    PredictedJson = table.Column<string>(type: "TEXT", nullable: true),
                    Status = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    Failure = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    CreatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoutingPlans", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "HistoryModelMap",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DatasetId = table.Column<int>(type: "INTEGER", nullable: false),
                    DatasetModel = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    RegistryModelId = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryModelMap", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HistoryModelMap_HistoryDatasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "HistoryDatasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_HistoryModelMap_Models_RegistryModelId",
                        column: x => x.RegistryModelId,
                        principalTable: "Models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                });

            migrationBuilder.CreateTable(
                name: "HistoryPrompts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    DatasetId = table.Column<int>(type: "INTEGER", nullable: false),
                    Source = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    ExternalId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    PromptSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Prompt = table.Column<string>(type: "TEXT", nullable: false),
                    InputTokens = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryPrompts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HistoryPrompts_HistoryDatasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "HistoryDatasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "RoutingPlanActivations",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PlanId = table.Column<long>(type: "INTEGER", nullable: false),
                    ActivatedUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ActivatedBy = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: false),
                    PreviousPlanId = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RoutingPlanActivations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RoutingPlanActivations_RoutingPlans_PlanId",
                        column: x => x.PlanId,
                        principalTable: "RoutingPlans",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "HistoryOutcomes",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    PromptId = table.Column<long>(type: "INTEGER", nullable: false),
                    DatasetModel = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Score = table.Column<double>(type: "REAL", nullable: false),
                    OutputTokens = table.Column<int>(type: "INTEGER", nullable: true),
                    CostUsd = table.Column<double>(type: "REAL", nullable: true),
                    ResponseText = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HistoryOutcomes", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HistoryOutcomes_HistoryPrompts_PromptId",
                        column: x => x.PromptId,
                        principalTable: "HistoryPrompts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_HistoryDatasets_ContentSha256",
                table: "HistoryDatasets",
                column: "ContentSha256",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_HistoryModelMap_DatasetId_DatasetModel",
                table: "HistoryModelMap",
                columns: new[] { "DatasetId", "DatasetModel" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_HistoryModelMap_RegistryModelId",
                table: "HistoryModelMap",
                column: "RegistryModelId");

            migrationBuilder.CreateIndex(
                name: "IX_HistoryOutcomes_PromptId_DatasetModel",
                table: "HistoryOutcomes",
                columns: new[] { "PromptId", "DatasetModel" });

            migrationBuilder.CreateIndex(
                name: "IX_HistoryPrompts_DatasetId_PromptSha256",
                table: "HistoryPrompts",
                columns: new[] { "DatasetId", "PromptSha256" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_RoutingPlanActivations_ActivatedUtc",
                table: "RoutingPlanActivations",
                column: "ActivatedUtc");

            migrationBuilder.CreateIndex(
                name: "IX_RoutingPlanActivations_PlanId",
                table: "RoutingPlanActivations",
                column: "PlanId");

            migrationBuilder.CreateIndex(
                name: "IX_RoutingPlans_CreatedUtc",
                table: "RoutingPlans",
                column: "CreatedUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "HistoryModelMap");

            migrationBuilder.DropTable(
                name: "HistoryOutcomes");

            migrationBuilder.DropTable(
                name: "RoutingPlanActivations");

            migrationBuilder.DropTable(
                name: "HistoryPrompts");

            migrationBuilder.DropTable(
                name: "RoutingPlans");

            migrationBuilder.DropTable(
                name: "HistoryDatasets");
        }
    }
}
