using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RequestExplanations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Explanation",
                table: "RequestLog",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "FeedbackScore",
                table: "RequestLog",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "PlanVersion",
                table: "RequestLog",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Explanation",
                table: "RequestLog");

            migrationBuilder.DropColumn(
                name: "FeedbackScore",
                table: "RequestLog");

            migrationBuilder.DropColumn(
                name: "PlanVersion",
                table: "RequestLog");
        }
    }
}
