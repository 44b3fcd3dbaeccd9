#include "store/sqlite/sqlite_db.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace vantage::store {
namespace {

class BulkInsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("vantage-bulk-" + std::to_string(std::random_device{}()) + ".sqlite");
    auto db = Db::open(path_.string());
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(*db);
    ASSERT_TRUE(db_->exec("CREATE TABLE counts(k INTEGER NOT NULL, name TEXT NOT NULL, "
                          "n INTEGER NOT NULL, PRIMARY KEY(k, name)) WITHOUT ROWID")
                    .ok());
    ASSERT_TRUE(
        bulk_.prepare(*db_, "counts(k, name, n)", 3, "ON CONFLICT DO UPDATE SET n = n + excluded.n")
            .ok());
  }
  void TearDown() override {
    bulk_ = {};
    db_.reset();
    std::filesystem::remove(path_);
  }

  Status add(int64_t k, std::string_view name, int64_t n) {
    bulk_.bind(1, k).bind(2, name).bind(3, n);
    return bulk_.end_row();
  }
  int64_t query(const char* sql) {
    auto st = db_->prepare(sql);
    EXPECT_TRUE(st.ok());
    auto has = st->step();
    EXPECT_TRUE(has.ok() && *has);
    return st->int64(0);
  }

  std::filesystem::path path_;
  std::unique_ptr<Db> db_;
  BulkInsert bulk_;
};

TEST_F(BulkInsertTest, WritesEveryRowWhateverTheCountAndAddsOnConflict) {
  // 0, 1, a partial statement, exactly one, and several statements and a part.
  for (int rows : {0, 1, 5, BulkInsert::kRows, 3 * BulkInsert::kRows + 7}) {
    ASSERT_TRUE(db_->exec("DELETE FROM counts").ok());
    bulk_.start();
    for (int i = 0; i < rows; ++i) ASSERT_TRUE(add(i, "a", 2).ok());
    // Repeats inside one statement and across statements add up.
    for (int i = 0; i < rows; ++i) ASSERT_TRUE(add(i, "a", 1).ok());
    ASSERT_TRUE(bulk_.finish().ok());
    EXPECT_EQ(query("SELECT count(*) FROM counts"), rows) << rows;
    EXPECT_EQ(query("SELECT coalesce(sum(n), 0) FROM counts"), 3 * rows) << rows;
  }
}

TEST_F(BulkInsertTest, StartForgetsRowsThatAFailedUseLeftBound) {
  bulk_.start();
  ASSERT_TRUE(add(1, "kept", 1).ok());
  ASSERT_TRUE(bulk_.finish().ok());
  // A use that stops before finish() (its transaction failed elsewhere) ...
  bulk_.start();
  ASSERT_TRUE(add(2, "abandoned", 1).ok());
  // ... must not leak its row into the next use.
  bulk_.start();
  ASSERT_TRUE(add(3, "next", 1).ok());
  ASSERT_TRUE(bulk_.finish().ok());
  EXPECT_EQ(query("SELECT count(*) FROM counts WHERE name = 'abandoned'"), 0);
  EXPECT_EQ(query("SELECT count(*) FROM counts"), 2);
}

TEST_F(BulkInsertTest, AConstraintErrorComesBackAndTheNextUseStartsClean) {
  bulk_.start();
  bulk_.bind(1, int64_t{1}).bind(3, int64_t{1});  // name left NULL: NOT NULL fails
  ASSERT_TRUE(bulk_.end_row().ok());
  EXPECT_FALSE(bulk_.finish().ok());
  bulk_.start();
  ASSERT_TRUE(add(4, "after", 1).ok());
  ASSERT_TRUE(bulk_.finish().ok());
  EXPECT_EQ(query("SELECT count(*) FROM counts"), 1);
}

}  // namespace
}  // namespace vantage::store
