//! The invented editorial content of the demo site: authors, sections, articles and their
//! comment threads. Everything is fixed data (no randomness, fixed dates), so two crawls of
//! the demo produce the same payloads and extraction tests can assert exact values.

pub struct Author {
    pub slug: &'static str,
    pub name: &'static str,
    pub bio: &'static str,
}

pub struct Section {
    pub slug: &'static str,
    pub name: &'static str,
}

/// Someone who comments; their avatar lives at `/static/img/avatars/{slug}-48.png` (and
/// `-96.png` for 2x screens).
pub struct Commenter {
    pub slug: &'static str,
    pub name: &'static str,
}

/// One comment; `id` is site-wide unique, like WordPress comment ids.
pub struct Comment {
    pub id: u32,
    pub by: usize,
    /// ISO 8601 with offset, as in `<time datetime>`.
    pub date: &'static str,
    pub paragraphs: &'static [&'static str],
    pub replies: &'static [Comment],
}

pub struct Article {
    pub year: u16,
    pub month: u8,
    pub slug: &'static str,
    pub title: &'static str,
    pub standfirst: &'static str,
    pub author: usize,
    pub section: usize,
    /// ISO 8601 with offset.
    pub published: &'static str,
    pub tags: &'static [&'static str],
    pub paragraphs: &'static [&'static str],
    pub caption: &'static str,
    /// Embeds a map iframe, a video and an audio clip.
    pub media: bool,
    pub comments_open: bool,
    /// Top-level threads per comment page; page 1 is the article URL itself.
    pub comment_pages: &'static [&'static [Comment]],
}

pub const SITE_NAME: &str = "The Lantern Gazette";
pub const TAGLINE: &str = "News from Hollowmere and the Salt Coast since 1887";

pub const AUTHORS: &[Author] = &[
    Author {
        slug: "mara-quill",
        name: "Mara Quill",
        bio: "Mara Quill covers the harbours and the coastal councils.",
    },
    Author {
        slug: "tobiah-fenn",
        name: "Tobiah Fenn",
        bio: "Tobiah Fenn is the Gazette's science and environment correspondent.",
    },
    Author {
        slug: "ines-calder",
        name: "Ines Calder",
        bio: "Ines Calder writes about Hollowmere: its streets, trams and institutions.",
    },
];

pub const SECTIONS: &[Section] = &[
    Section {
        slug: "world",
        name: "World",
    },
    Section {
        slug: "science",
        name: "Science",
    },
    Section {
        slug: "city",
        name: "City",
    },
];

pub const COMMENTERS: &[Commenter] = &[
    Commenter {
        slug: "edda-brimble",
        name: "Edda Brimble",
    },
    Commenter {
        slug: "rolf-tanager",
        name: "Rolf Tanager",
    },
    Commenter {
        slug: "nell-vasquez",
        name: "Nell Vasquez",
    },
    Commenter {
        slug: "otto-smallbone",
        name: "Otto Smallbone",
    },
    Commenter {
        slug: "greta-haverly",
        name: "Greta Haverly",
    },
    Commenter {
        slug: "sam-ruddock",
        name: "Sam Ruddock",
    },
    Commenter {
        slug: "wren-albescu",
        name: "Wren Albescu",
    },
    Commenter {
        slug: "mara-quill",
        name: "Mara Quill",
    },
];

const fn c(
    id: u32,
    by: usize,
    date: &'static str,
    paragraphs: &'static [&'static str],
    replies: &'static [Comment],
) -> Comment {
    Comment {
        id,
        by,
        date,
        paragraphs,
        replies,
    }
}

pub const ARTICLES: &[Article] = &[
    Article {
        year: 2024,
        month: 3,
        slug: "lighthouse-accord",
        title: "Harbour nations sign accord on a drifting lighthouse network",
        standfirst: "Seven coastal states agree to share the cost of buoyed lights after a winter of wrecks.",
        author: 0,
        section: 0,
        published: "2024-03-14T09:30:00+00:00",
        tags: &["harbours", "diplomacy"],
        paragraphs: &[
            "Delegates from seven harbour nations signed an accord in Port Esk on Wednesday that commits them to building and maintaining a chain of floating lighthouses along the Salt Coast, ending a dispute that has simmered since the old stone towers were abandoned.",
            "The agreement follows a winter in which four cargo vessels ran aground on the Teeth, a line of shoals that shifts with every storm. Fixed lights, harbourmasters argue, are useless when the hazard itself moves.",
            "Under the accord each signatory will fund at least two of the anchored light-buoys, which carry solar panels, a radio beacon and a lamp visible for eleven nautical miles. A joint survey vessel will reposition them each spring.",
            "\u{201c}The sea does not care whose flag is on the lamp,\u{201d} said Oona Varr, the harbourmaster of Port Esk, who chaired the final session. \u{201c}For once the paperwork agrees with the sea.\u{201d}",
            "Not everyone is pleased. Fishing cooperatives on the northern islands say the buoys will sit across traditional lobster grounds, and have asked for a seat on the survey board.",
            "The first twelve lights are due to be moored before the autumn gales. Their positions will be published weekly in the Gazette\u{2019}s shipping column.",
        ],
        caption: "A prototype light-buoy under test off the Port Esk breakwater.",
        media: false,
        comments_open: true,
        comment_pages: &[
            &[
                c(
                    101,
                    0,
                    "2024-03-14T10:02:00+00:00",
                    &[
                        "About time. My grandfather kept the Skerry light until they bricked it up in 1961.",
                    ],
                    &[c(
                        102,
                        7,
                        "2024-03-14T10:40:00+00:00",
                        &[
                            "Thank you for this, Edda. If your family kept any logbooks, the maritime museum would love to hear from you.",
                        ],
                        &[],
                    )],
                ),
                c(
                    103,
                    1,
                    "2024-03-14T11:15:00+00:00",
                    &[
                        "Eleven nautical miles in clear weather, perhaps. In a Salt Coast fog you will be lucky to see it from the deck rail.",
                    ],
                    &[],
                ),
            ],
            &[
                c(
                    104,
                    3,
                    "2024-03-14T13:20:00+00:00",
                    &[
                        "Who pays when a buoy drifts off station and a ship hits the shoal anyway?",
                        "The article does not say whether the accord covers liability.",
                    ],
                    &[c(
                        105,
                        2,
                        "2024-03-14T14:05:00+00:00",
                        &[
                            "Clause nine, apparently: the state that last serviced the buoy. Expect long arguments about who touched it last.",
                        ],
                        &[],
                    )],
                ),
                c(
                    106,
                    4,
                    "2024-03-15T08:30:00+00:00",
                    &[
                        "The lobster grounds point is fair. The survey board should include at least one working fisher.",
                    ],
                    &[],
                ),
            ],
            &[c(
                107,
                5,
                "2024-03-16T19:45:00+00:00",
                &[
                    "Saw the prototype from the ferry last night. It is brighter than I expected, and it blinks in a pattern I did not recognise.",
                ],
                &[c(
                    108,
                    6,
                    "2024-03-16T21:10:00+00:00",
                    &[
                        "Two short, one long: the accord gives every buoy its own character so sailors can tell them apart.",
                    ],
                    &[],
                )],
            )],
        ],
    },
    Article {
        year: 2024,
        month: 3,
        slug: "glassfrog-rebound",
        title: "Glassfrogs return to the Vell Valley after a decade-long survey",
        standfirst: "Volunteers counted more than four thousand calling males along the upper river this spring.",
        author: 1,
        section: 1,
        published: "2024-03-22T07:15:00+00:00",
        tags: &["wildlife", "rivers"],
        paragraphs: &[
            "The translucent Vell glassfrog, feared lost from its namesake valley after a fungal outbreak in 2013, has returned in numbers that surprised even the scientists who spent ten years looking for it.",
            "A survey coordinated by the Hollowmere Natural History Society recorded 4,212 calling males along a twelve-kilometre stretch of the upper river between February and March, up from nineteen in the first year of counting.",
            "\u{201c}We were counting ghosts for the first three seasons,\u{201d} said Dr Halla Strand, who leads the survey. \u{201c}Then one night the whole gorge was singing.\u{201d}",
            "The recovery appears to follow the removal of two weirs that had slowed the river and warmed the water, conditions in which the fungus thrives. Cooler, faster water seems to give the frogs an edge.",
            "Volunteers recorded the chorus on handheld microphones, and the society has released a short clip of the calls alongside a map of the survey transects.",
        ],
        caption: "A male Vell glassfrog on a fern frond; its heart is visible through its skin.",
        media: true,
        comments_open: true,
        comment_pages: &[
            &[
                c(
                    201,
                    2,
                    "2024-03-22T08:00:00+00:00",
                    &[
                        "Wonderful news. I volunteered for two of those cold February nights and it was worth every minute.",
                    ],
                    &[],
                ),
                c(
                    202,
                    3,
                    "2024-03-22T09:12:00+00:00",
                    &[
                        "Is the valley still open to walkers, or will they close the path to protect the frogs?",
                    ],
                    &[c(
                        203,
                        6,
                        "2024-03-22T10:30:00+00:00",
                        &[
                            "The society says the path stays open, but asks people to keep torches pointed at the ground after dark.",
                        ],
                        &[],
                    )],
                ),
            ],
            &[
                c(
                    204,
                    0,
                    "2024-03-23T16:44:00+00:00",
                    &[
                        "Removing the weirs was controversial at the time. Good to see the evidence come in.",
                    ],
                    &[],
                ),
                c(
                    205,
                    1,
                    "2024-03-24T07:05:00+00:00",
                    &[
                        "Four thousand calling males does not mean four thousand frogs. Let us wait for the tadpole counts.",
                        "Still, a very good sign.",
                    ],
                    &[],
                ),
            ],
        ],
    },
    Article {
        year: 2024,
        month: 4,
        slug: "night-tram",
        title: "Hollowmere\u{2019}s Line 3 tram reopens with an all-night service",
        standfirst: "After eighteen months of track work, the hill line runs again, and now it runs until dawn.",
        author: 2,
        section: 2,
        published: "2024-04-05T18:00:00+00:00",
        tags: &["transport"],
        paragraphs: &[
            "The Line 3 tram, which climbs from the fish market to the observatory gate, reopened on Friday evening after eighteen months of track replacement, with a new timetable that keeps it running through the night at weekends.",
            "The city transport board says the night service is a twelve-month trial. Trams will run every twenty minutes between midnight and five in the morning on Fridays and Saturdays.",
            "Shift workers at the cannery and the hospital had campaigned for the change for years. \u{201c}I used to walk up the hill at three in the morning,\u{201d} said porter Dilys Moth. \u{201c}Now I can sit down.\u{201d}",
            "Residents near the Cable Street curve are less enthusiastic, and the board has promised new rail dampers before the summer to reduce the squeal on the bend.",
        ],
        caption: "The first reopened Line 3 tram leaves the fish market stop at dusk.",
        media: false,
        comments_open: true,
        comment_pages: &[&[
            c(
                301,
                4,
                "2024-04-05T19:30:00+00:00",
                &["Rode it tonight. Smooth, quiet, and the conductor still punches paper tickets."],
                &[c(
                    302,
                    5,
                    "2024-04-05T20:02:00+00:00",
                    &["Paper tickets! Please never change that."],
                    &[c(
                        303,
                        4,
                        "2024-04-05T20:15:00+00:00",
                        &["They say the machines arrive next year, sadly."],
                        &[],
                    )],
                )],
            ),
            c(
                304,
                3,
                "2024-04-06T09:00:00+00:00",
                &["The squeal on Cable Street is real. I hope the dampers work."],
                &[],
            ),
            c(
                305,
                2,
                "2024-04-06T23:50:00+00:00",
                &[
                    "Night tram up to the observatory on a clear night is the best thing this city has done in years.",
                ],
                &[],
            ),
        ]],
    },
    Article {
        year: 2024,
        month: 4,
        slug: "salt-road-talks",
        title: "Salt Road talks stall over ferry tariffs",
        standfirst: "Negotiators leave Calder Point without a deal on the crossing fees that fund the road.",
        author: 0,
        section: 0,
        published: "2024-04-18T12:45:00+00:00",
        tags: &["diplomacy", "transport"],
        paragraphs: &[
            "Talks on the future of the Salt Road broke up at Calder Point on Thursday without agreement, after negotiators from the island councils refused to accept higher tariffs on the ferry crossings that link the road\u{2019}s two halves.",
            "The road, a causeway and ferry route that carries most of the coast\u{2019}s freight, is maintained from crossing fees. Engineers say the causeway needs urgent work on its southern embankment.",
            "The mainland delegation proposed doubling fees for heavy goods vehicles while freezing them for foot passengers. Island councils say that would raise the price of everything sold on the islands.",
            "A further round is pencilled in for June. Until then the southern embankment will be inspected weekly, and lorries over twenty tonnes will cross one at a time.",
        ],
        caption: "Queues at the Calder Point ferry ramp on the first day of the talks.",
        media: false,
        comments_open: false,
        comment_pages: &[],
    },
    Article {
        year: 2024,
        month: 5,
        slug: "unsent-letters",
        title: "A library of unsent letters opens in the old customs house",
        standfirst: "Donors have given more than nine hundred letters that were written and never posted.",
        author: 2,
        section: 2,
        published: "2024-05-02T10:00:00+00:00",
        tags: &["libraries"],
        paragraphs: &[
            "The old customs house on Wharf Row, empty since the tariff office moved inland, reopened on Thursday as the Library of Unsent Letters, a reading room for correspondence that was written and never posted.",
            "The collection began with a single shoebox found in the customs house attic: letters from harbour clerks to families they never wrote to again. A public appeal brought in more than nine hundred more.",
            "Letters are catalogued by mood rather than date. Visitors can ask for apologies, declarations, complaints or farewells, and read them at long oak tables under the building\u{2019}s original brass lamps.",
            "Donors may ask for their letters to be sealed for up to fifty years. About a third have done so, and their envelopes sit in a locked cabinet with the opening year written on the spine.",
            "The librarian, Ambrose Pell, said the most requested category in the first week was complaints. \u{201c}People like to read that someone else was cross about the weather in 1923.\u{201d}",
        ],
        caption: "Reading tables in the restored long room of the customs house.",
        media: false,
        comments_open: true,
        comment_pages: &[
            &[c(
                501,
                6,
                "2024-05-02T11:20:00+00:00",
                &[
                    "I donated a letter to my younger self. Strange to think of a stranger reading it.",
                ],
                &[c(
                    502,
                    0,
                    "2024-05-02T12:01:00+00:00",
                    &["That is lovely. I hope it was kind."],
                    &[],
                )],
            )],
            &[
                c(
                    503,
                    1,
                    "2024-05-03T09:40:00+00:00",
                    &["Catalogued by mood is a brilliant idea. More libraries should try it."],
                    &[],
                ),
                c(
                    504,
                    5,
                    "2024-05-04T15:25:00+00:00",
                    &[
                        "Went on Saturday. Asked for farewells and had to leave after three letters.",
                    ],
                    &[],
                ),
            ],
        ],
    },
    Article {
        year: 2024,
        month: 5,
        slug: "comet-second-tail",
        title: "Amateur astronomers log a comet\u{2019}s second tail",
        standfirst: "Members of the Observatory Hill club photographed a faint anti-tail pointing towards the sun.",
        author: 1,
        section: 1,
        published: "2024-05-20T22:10:00+00:00",
        tags: &["astronomy"],
        paragraphs: &[
            "Members of the Observatory Hill astronomy club have photographed a faint second tail on comet Harrow-Lisk, pointing towards the sun rather than away from it.",
            "Such anti-tails are an effect of perspective: dust shed along the comet\u{2019}s orbit appears to stick out ahead of it when the Earth crosses the orbital plane. They are rarely bright enough for small telescopes.",
            "The club stacked more than three hundred thirty-second exposures taken over two nights from the hill, where the new night tram now brings observers to the gate.",
            "Club secretary Femi Orland said the images had been sent to the comet section of the national astronomical society. \u{201c}It is a small thing, but it is ours,\u{201d} she said.",
        ],
        caption: "Stacked image of comet Harrow-Lisk showing the main tail and the faint anti-tail.",
        media: false,
        comments_open: true,
        comment_pages: &[&[
            c(
                601,
                3,
                "2024-05-20T23:00:00+00:00",
                &["Beautiful image. What camera did the club use?"],
                &[c(
                    602,
                    2,
                    "2024-05-21T07:30:00+00:00",
                    &[
                        "A cooled astronomy camera on the club\u{2019}s old refractor, according to their newsletter.",
                    ],
                    &[],
                )],
            ),
            c(
                603,
                4,
                "2024-05-21T21:15:00+00:00",
                &[
                    "Went up on the night tram to look. Saw nothing but fog, but the tram was lovely.",
                ],
                &[],
            ),
        ]],
    },
];
