/* bench_search_data.c: a generator of realistic fictional alumni profiles
 * for bench_search: Japanese names (kanji, reading, romaji) with common
 * surnames far more frequent than rare ones, some English names, group
 * companies as home nodes, current companies, departments, titles, skills,
 * prefectures and cities, short bios. Deterministic for a given seed. */
#include "bench_search.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *kanji, *kana, *romaji;
} name3;

/* Surnames in rough order of frequency; picks are Zipf-like over the list. */
static const name3 surnames[] = {
    {"佐藤", "さとう", "Sato"},         {"鈴木", "すずき", "Suzuki"},       {"高橋", "たかはし", "Takahashi"},
    {"田中", "たなか", "Tanaka"},       {"伊藤", "いとう", "Ito"},          {"渡辺", "わたなべ", "Watanabe"},
    {"山本", "やまもと", "Yamamoto"},   {"中村", "なかむら", "Nakamura"},   {"小林", "こばやし", "Kobayashi"},
    {"加藤", "かとう", "Kato"},         {"吉田", "よしだ", "Yoshida"},      {"山田", "やまだ", "Yamada"},
    {"佐々木", "ささき", "Sasaki"},     {"山口", "やまぐち", "Yamaguchi"},  {"松本", "まつもと", "Matsumoto"},
    {"井上", "いのうえ", "Inoue"},      {"木村", "きむら", "Kimura"},       {"林", "はやし", "Hayashi"},
    {"斎藤", "さいとう", "Saito"},      {"清水", "しみず", "Shimizu"},      {"山崎", "やまざき", "Yamazaki"},
    {"森", "もり", "Mori"},             {"池田", "いけだ", "Ikeda"},        {"橋本", "はしもと", "Hashimoto"},
    {"阿部", "あべ", "Abe"},            {"石川", "いしかわ", "Ishikawa"},   {"山下", "やました", "Yamashita"},
    {"中島", "なかじま", "Nakajima"},   {"石井", "いしい", "Ishii"},        {"小川", "おがわ", "Ogawa"},
    {"前田", "まえだ", "Maeda"},        {"岡田", "おかだ", "Okada"},        {"長谷川", "はせがわ", "Hasegawa"},
    {"藤田", "ふじた", "Fujita"},       {"後藤", "ごとう", "Goto"},         {"近藤", "こんどう", "Kondo"},
    {"村上", "むらかみ", "Murakami"},   {"遠藤", "えんどう", "Endo"},       {"青木", "あおき", "Aoki"},
    {"坂本", "さかもと", "Sakamoto"},   {"福田", "ふくだ", "Fukuda"},       {"太田", "おおた", "Ota"},
    {"西村", "にしむら", "Nishimura"},  {"藤井", "ふじい", "Fujii"},        {"金子", "かねこ", "Kaneko"},
    {"岡本", "おかもと", "Okamoto"},    {"藤原", "ふじわら", "Fujiwara"},   {"中野", "なかの", "Nakano"},
    {"三浦", "みうら", "Miura"},        {"原田", "はらだ", "Harada"},       {"中川", "なかがわ", "Nakagawa"},
    {"松田", "まつだ", "Matsuda"},      {"竹内", "たけうち", "Takeuchi"},   {"小野", "おの", "Ono"},
    {"田村", "たむら", "Tamura"},       {"中山", "なかやま", "Nakayama"},   {"和田", "わだ", "Wada"},
    {"石田", "いしだ", "Ishida"},       {"森田", "もりた", "Morita"},       {"上田", "うえだ", "Ueda"},
    {"内田", "うちだ", "Uchida"},       {"柴田", "しばた", "Shibata"},      {"酒井", "さかい", "Sakai"},
    {"工藤", "くどう", "Kudo"},         {"横山", "よこやま", "Yokoyama"},   {"宮崎", "みやざき", "Miyazaki"},
    {"宮本", "みやもと", "Miyamoto"},   {"高木", "たかぎ", "Takagi"},       {"安藤", "あんどう", "Ando"},
    {"谷口", "たにぐち", "Taniguchi"},  {"大野", "おおの", "Ono"},          {"丸山", "まるやま", "Maruyama"},
    {"今井", "いまい", "Imai"},         {"高田", "たかだ", "Takada"},       {"藤本", "ふじもと", "Fujimoto"},
    {"武田", "たけだ", "Takeda"},       {"村田", "むらた", "Murata"},       {"上野", "うえの", "Ueno"},
    {"杉山", "すぎやま", "Sugiyama"},   {"増田", "ますだ", "Masuda"},       {"小山", "こやま", "Koyama"},
    {"大塚", "おおつか", "Otsuka"},     {"平野", "ひらの", "Hirano"},       {"菅原", "すがわら", "Sugawara"},
    {"久保", "くぼ", "Kubo"},           {"松井", "まつい", "Matsui"},       {"千葉", "ちば", "Chiba"},
    {"岩崎", "いわさき", "Iwasaki"},    {"桜井", "さくらい", "Sakurai"},    {"木下", "きのした", "Kinoshita"},
    {"野口", "のぐち", "Noguchi"},      {"松尾", "まつお", "Matsuo"},       {"菊地", "きくち", "Kikuchi"},
    {"野村", "のむら", "Nomura"},       {"新井", "あらい", "Arai"},         {"東海林", "しょうじ", "Shoji"},
};

static const name3 given[] = {
    {"太郎", "たろう", "Taro"},       {"一郎", "いちろう", "Ichiro"},   {"健太", "けんた", "Kenta"},
    {"翔太", "しょうた", "Shota"},    {"大輔", "だいすけ", "Daisuke"},  {"拓也", "たくや", "Takuya"},
    {"直樹", "なおき", "Naoki"},      {"誠", "まこと", "Makoto"},       {"浩", "ひろし", "Hiroshi"},
    {"学", "まなぶ", "Manabu"},       {"健一", "けんいち", "Kenichi"},  {"隆", "たかし", "Takashi"},
    {"亮", "りょう", "Ryo"},          {"剛", "つよし", "Tsuyoshi"},     {"悠斗", "ゆうと", "Yuto"},
    {"蓮", "れん", "Ren"},            {"大翔", "ひろと", "Hiroto"},     {"和也", "かずや", "Kazuya"},
    {"花子", "はなこ", "Hanako"},     {"陽子", "ようこ", "Yoko"},       {"恵子", "けいこ", "Keiko"},
    {"美咲", "みさき", "Misaki"},     {"さくら", "さくら", "Sakura"},   {"愛", "あい", "Ai"},
    {"由美", "ゆみ", "Yumi"},         {"真由美", "まゆみ", "Mayumi"},   {"裕子", "ゆうこ", "Yuko"},
    {"直子", "なおこ", "Naoko"},      {"彩", "あや", "Aya"},            {"恭子", "きょうこ", "Kyoko"},
    {"智子", "ともこ", "Tomoko"},     {"結衣", "ゆい", "Yui"},          {"陽菜", "ひな", "Hina"},
    {"明美", "あけみ", "Akemi"},      {"久美子", "くみこ", "Kumiko"},   {"舞", "まい", "Mai"},
};

/* English names: the katakana reading a Japanese HR system would hold. */
static const name3 en_first[] = {
    {"John", "ジョン", NULL},     {"Emily", "エミリー", NULL},  {"Michael", "マイケル", NULL},
    {"Sarah", "サラ", NULL},      {"David", "デイビッド", NULL}, {"Laura", "ローラ", NULL},
    {"James", "ジェームズ", NULL}, {"Olivia", "オリビア", NULL}, {"Daniel", "ダニエル", NULL},
    {"Sophie", "ソフィー", NULL}, {"Kevin", "ケビン", NULL},    {"Anna", "アンナ", NULL},
};
static const name3 en_last[] = {
    {"Smith", "スミス", NULL},      {"Johnson", "ジョンソン", NULL}, {"Brown", "ブラウン", NULL},
    {"Taylor", "テイラー", NULL},   {"Miller", "ミラー", NULL},      {"Wilson", "ウィルソン", NULL},
    {"Moore", "ムーア", NULL},      {"Anderson", "アンダーソン", NULL}, {"Thomas", "トーマス", NULL},
    {"Clark", "クラーク", NULL},    {"Lee", "リー", NULL},           {"Chen", "チェン", NULL},
};

const char *const kzb_homes[KZB_HOMES] = {
    "住友商事", "三井物産", "三菱商事", "伊藤忠商事", "丸紅", "双日", "豊田通商", "Acme Corp",
    "Globex", "Initech", "Umbrella Holdings", "Stark Industries", "日立製作所", "東芝",
    "ソニーグループ", "パナソニック", "富士通", "NEC", "キヤノン", "任天堂", "楽天グループ",
    "ソフトバンク", "KDDI", "Wayne Enterprises",
};

static const char *const companies[] = {
    "住友商事株式会社", "三井物産株式会社", "三菱商事", "伊藤忠商事", "丸紅", "双日", "日立製作所",
    "東芝", "ソニーグループ", "パナソニック", "富士通", "NEC", "キヤノン", "任天堂",
    "楽天グループ", "ソフトバンク", "KDDI", "株式会社メルカリ", "LINEヤフー", "Google Japan",
    "Amazon Web Services", "Microsoft", "freee", "SmartHR", "マネーフォワード", "サイボウズ",
    "ディー・エヌ・エー", "サイバーエージェント", "リクルート", "野村證券", "みずほ銀行",
    "三井住友銀行", "三菱UFJ銀行", "トヨタ自動車", "本田技研工業", "日産自動車", "デンソー",
    "Accenture", "McKinsey & Company", "Deloitte", "PwC Japan", "KPMG", "Boston Consulting Group",
    "Salesforce", "Oracle", "IBM", "Globex", "Initech", "Acme Corp", "個人事業主",
    "Stripe", "Shopify", "ユニクロ", "資生堂", "花王", "味の素", "キリンホールディングス",
};

static const char *const departments[] = {
    "営業部", "経理部", "人事部", "総務部", "法務部", "開発部", "研究開発部", "情報システム部",
    "経営企画部", "海外事業部", "マーケティング部", "広報部", "財務部", "調達部", "品質保証部",
    "Sales", "Engineering", "Finance", "Human Resources", "Legal",
};

static const char *const titles[] = {
    "部長", "課長", "係長", "主任", "マネージャー", "Senior Engineer", "Software Engineer",
    "Product Manager", "Designer", "Consultant", "Director", "VP of Engineering", "CTO", "CEO",
    "Analyst", "Data Scientist", "Sales Manager", "Account Executive", "代表取締役", "取締役",
    "エンジニア", "デザイナー", "コンサルタント", "Engineering Manager", "Researcher",
};

static const char *const skills[] = {
    "Python", "Java", "Go", "Rust", "C", "C++", "TypeScript", "React", "AWS", "GCP",
    "Kubernetes", "SQL", "機械学習", "データ分析", "会計", "税務", "法務", "M&A", "営業", "交渉",
    "プロジェクト管理", "英語", "中国語", "マーケティング", "SEO", "UX", "財務分析", "人材育成",
    "採用", "物流", "サプライチェーン", "貿易実務",
};

static const char *const places[] = {
    "東京都 港区", "東京都 千代田区", "東京都 渋谷区", "東京都 新宿区", "東京都 世田谷区",
    "神奈川県 横浜市", "神奈川県 川崎市", "大阪府 大阪市", "大阪府 吹田市", "愛知県 名古屋市",
    "福岡県 福岡市", "北海道 札幌市", "京都府 京都市", "兵庫県 神戸市", "宮城県 仙台市",
    "広島県 広島市", "埼玉県 さいたま市", "千葉県 千葉市", "静岡県 浜松市", "沖縄県 那覇市",
    "Singapore", "New York", "London", "Bangkok", "Shanghai", "San Francisco",
};

/* ---- Random numbers ------------------------------------------------------------ */

uint64_t kzb_rand(uint64_t *s)
{
    /* splitmix64: small, fast and good enough for test data. */
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static size_t pick(uint64_t *s, size_t n)
{
    return (size_t)(kzb_rand(s) % n);
}

/* Zipf-like: index i with weight about 1 / (i + 3). */
static size_t pick_zipf(uint64_t *s, size_t n)
{
    double total = 0, x;
    for (size_t i = 0; i < n; i++)
        total += 1.0 / (double)(i + 3);
    x = (double)(kzb_rand(s) >> 11) / 9007199254740992.0 * total;
    for (size_t i = 0; i < n; i++) {
        x -= 1.0 / (double)(i + 3);
        if (x <= 0)
            return i;
    }
    return n - 1;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Profiles -------------------------------------------------------------------- */

void kzb_profile_make(uint64_t *s, kzb_profile *p)
{
    memset(p, 0, sizeof *p);
    p->home = pick(s, KZB_HOMES);
    bool english = kzb_rand(s) % 100 < 15;
    if (english) {
        const name3 *f = &en_first[pick(s, N(en_first))], *l = &en_last[pick(s, N(en_last))];
        snprintf(p->name, sizeof p->name, "%s %s", f->kanji, l->kanji);
        snprintf(p->reading, sizeof p->reading, "%s %s", f->kana, l->kana);
        snprintf(p->romaji, sizeof p->romaji, "%s %s", f->kanji, l->kanji);
    } else {
        const name3 *l = &surnames[pick_zipf(s, N(surnames))], *f = &given[pick(s, N(given))];
        snprintf(p->name, sizeof p->name, "%s %s", l->kanji, f->kanji);
        snprintf(p->reading, sizeof p->reading, "%s %s", l->kana, f->kana);
        /* Half the members were added without a romaji field: it is still
         * found through the romanised reading. */
        if (kzb_rand(s) % 2)
            snprintf(p->romaji, sizeof p->romaji, "%s %s", f->romaji, l->romaji);
    }
    p->dept = departments[pick(s, N(departments))];
    p->title = titles[pick(s, N(titles))];
    p->joined = (uint16_t)(1975 + pick(s, 47));
    if (kzb_rand(s) % 10) {
        p->left = (uint16_t)(p->joined + 1 + pick(s, 25));
        if (p->left > 2025)
            p->left = 2025;
        p->current_company = companies[pick(s, N(companies))];
        p->current_title = titles[pick(s, N(titles))];
    } else {
        p->current_company = kzb_homes[p->home]; /* still there */
        p->current_title = p->title;
    }
    p->location = places[pick_zipf(s, N(places))];
    p->n_skills = (unsigned)(1 + pick(s, 4));
    for (unsigned i = 0; i < p->n_skills; i++)
        p->skills[i] = skills[pick(s, N(skills))];
    switch (kzb_rand(s) % 4) {
    case 0:
        snprintf(p->bio, sizeof p->bio, "%sの%sに%u年間在籍しました。現在は%sで%sとして働いています。",
                 kzb_homes[p->home], p->dept, (unsigned)(p->left ? p->left - p->joined : 5),
                 p->current_company, p->current_title);
        break;
    case 1:
        snprintf(p->bio, sizeof p->bio,
                 "Spent %u years in %s at %s; now %s at %s. Happy to talk about %s.",
                 (unsigned)(p->left ? p->left - p->joined : 5), p->dept, kzb_homes[p->home],
                 p->current_title, p->current_company, p->skills[0]);
        break;
    default:
        break; /* no bio */
    }
    p->open_to = (uint32_t)(kzb_rand(s) & 7u);
    unsigned v = (unsigned)(kzb_rand(s) % 100);
    p->visibility = v < 90 ? 0 : v < 98 ? 1 : 2;
}

/* ---- Queries ------------------------------------------------------------------------ */

void kzb_query_make(uint64_t *s, int shape, kzb_query *q)
{
    memset(q, 0, sizeof *q);
    /* Query words follow the population: common names are asked for more. */
    const name3 *l;
    do
        l = &surnames[pick_zipf(s, N(surnames))];
    while ((shape == KZB_Q_KANJI2 && strlen(l->kanji) != 6) || /* two kanji: 6 UTF-8 bytes */
           (shape == KZB_Q_KANA && strlen(l->kana) < 9));      /* FTS5 trigrams need 3 */
    switch (shape) {
    case KZB_Q_KANJI2:
        snprintf(q->text, sizeof q->text, "%s", l->kanji);
        break;
    case KZB_Q_KANA:
        snprintf(q->text, sizeof q->text, "%s", l->kana);
        break;
    case KZB_Q_ROMAJI: {
        /* A romaji prefix of four letters, lower case ("suzu", "taka"). */
        size_t n = strlen(l->romaji) < 4 ? strlen(l->romaji) : 4;
        for (size_t i = 0; i < n; i++) {
            char ch = l->romaji[i];
            q->text[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        }
        q->text[n] = 0;
        break;
    }
    case KZB_Q_COMPANY:
        q->home = (int)pick(s, KZB_HOMES);
        break;
    default: { /* two words + a filter: "tanaka eng" at one home company */
        static const char *const words[] = {"eng", "manager", "design", "consult", "sales",
                                            "data", "director", "analyst"};
        char lower[32];
        size_t n = strlen(l->romaji);
        for (size_t i = 0; i <= n && i < sizeof lower; i++) {
            char ch = l->romaji[i];
            lower[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        }
        lower[sizeof lower - 1] = 0;
        snprintf(q->text, sizeof q->text, "%s %s", lower, words[pick(s, N(words))]);
        q->home = (int)pick(s, KZB_HOMES);
        break;
    }
    }
    if (shape != KZB_Q_COMPANY && shape != KZB_Q_TWO_FILTER)
        q->home = -1;
}

const char *const kzb_shape_names[KZB_Q_SHAPES] = {
    "2-char kanji (鈴木)", "kana reading (すずき)", "romaji prefix (suzu)",
    "home company filter alone", "two words + company filter",
};
